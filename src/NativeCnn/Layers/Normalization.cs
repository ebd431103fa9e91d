using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>Normalization</c> on the last axis at inference: <c>(x − mean) / max(sqrt(variance), 1e-7)</c>. Weights
/// (all non-trainable, as Keras counts them): <c>mean</c>, <c>variance</c> (one per channel) and <c>count</c> (one value).
/// </summary>
/// <remarks>
/// EfficientNet's ImageNet files store the standard deviations as <c>variance</c>, so this divides by sqrt(std); Keras
/// ≥ 2.13.1 corrects it with a following <see cref="Rescaling"/> (TF issue 49930). This layer computes what Keras
/// computes and leaves the correction to the model.
/// </remarks>
public sealed class Normalization : Layer
{
    private readonly float[]? _mean, _variance;

    /// <summary>Creates the layer; statistics come from <paramref name="mean"/>/<paramref name="variance"/> or later from weights.</summary>
    public Normalization(string name, float[]? mean = null, float[]? variance = null) : base(name)
    {
        if ((mean is null) != (variance is null) || (mean is not null && mean.Length != variance!.Length))
            throw new ArgumentException($"{name}: mean and variance must both be given with the same length.");
        _mean = mean;
        _variance = variance;
    }

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleInput(inputShapes);
        int expected = IsBuilt ? GetWeight("mean").Shape[0] : _mean?.Length ?? input.Channels;
        if (input.Channels != expected) throw Error($"expected input with {expected} channels, got {input}");
        return input;
    }

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes)
    {
        var shape = new TensorShape(inputShapes[0].Channels);
        var mean = AddWeight("mean", shape, Initializer.Zeros, trainable: false);
        var variance = AddWeight("variance", shape, Initializer.Ones, trainable: false);
        AddWeight("count", new TensorShape(1), Initializer.Zeros, trainable: false);
        _mean?.CopyTo(mean.Value.Span);
        _variance?.CopyTo(variance.Value.Span);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes)
    {
        var mean = GetWeight("mean").Value.Span;
        var variance = GetWeight("variance").Value.Span;
        var scale = new float[mean.Length];
        var shift = new float[mean.Length];
        for (int c = 0; c < mean.Length; c++)
        {
            double inverse = 1.0 / Math.Max(Math.Sqrt(variance[c]), 1e-7);
            scale[c] = (float)inverse;
            shift[c] = (float)(-mean[c] * inverse);
        }
        return new ChannelAffineOp(scale, shift, ActivationFunction.Linear);
    }

    /// <summary>The Keras config form of <c>Normalization</c>: mean and variance, on the channel axis; invert=True is refused (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Normalization>("Normalization",
        read: c =>
        {
            if (c.Bool("invert", false)) throw c.Unsupported("invert=True");
            int axis = c.AxisOrFirst("axis", -1);
            if (axis is not (-1 or 3)) throw c.Unsupported($"axis {axis} (only the channel axis)");
            float[]? mean = c.OptionalFloatList("mean"), variance = c.OptionalFloatList("variance");
            return new Normalization(c.LayerName, mean, variance);
        },
        write: (_, c) =>
        {
            // The statistics travel as the layer's weights (mean, variance, count), as Keras saves an adapted layer.
            c.Int("axis", -1);
            c.Null("mean");
            c.Null("variance");
            c.Bool("invert", false);
        },
        weightNames: ["mean", "variance", "count"]);
}
