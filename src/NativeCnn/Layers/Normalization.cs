using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>Normalization</c> on the last axis at inference: <c>(x − mean) / max(sqrt(variance), 1e-7)</c>, in one of
/// Keras's two forms. An adapted layer (no statistics in its config, as EfficientNet V1's) owns its statistics as weights,
/// all non-trainable as Keras counts them: <c>mean</c>, <c>variance</c> (one per channel) and <c>count</c> (one value).
/// A layer given <c>mean</c> and <c>variance</c> in its config (<see cref="Constant"/>, as EfficientNetV2's) holds them as
/// constants: no weights, no parameters, and nothing for it in weight files.
/// </summary>
/// <remarks>
/// EfficientNet's ImageNet files store the standard deviations as <c>variance</c>, so this divides by sqrt(std); Keras
/// ≥ 2.13.1 corrects it with a following <see cref="Rescaling"/> (TF issue 49930). This layer computes what Keras
/// computes and leaves the correction to the model.
/// </remarks>
public sealed class Normalization : Layer
{
    private readonly float[]? _mean, _variance;

    /// <summary>
    /// Creates an adapted layer: its statistics are weights, set from <paramref name="mean"/>/<paramref name="variance"/>
    /// when given (otherwise zeros and ones), or later from a weight file.
    /// </summary>
    /// <exception cref="ArgumentException">Only one of the statistics is given, or their lengths differ.</exception>
    public Normalization(string name, float[]? mean = null, float[]? variance = null) : this(name, mean, variance, statisticsAreConstants: false) { }

    private Normalization(string name, float[]? mean, float[]? variance, bool statisticsAreConstants) : base(name)
    {
        if ((mean is null) != (variance is null) || (mean is not null && mean.Length != variance!.Length))
            throw new ArgumentException($"{name}: mean and variance must both be given with the same length.");
        if (statisticsAreConstants && (mean is null || mean.Length == 0))
            throw new ArgumentException($"{name}: a Normalization with constant statistics needs a mean and a variance.");
        if (variance is not null && variance.Any(v => !(v >= 0) || !float.IsFinite(v)))
            throw new ArgumentException($"{name}: a variance is negative or not finite.");
        _mean = mean;
        _variance = variance;
        StatisticsAreConstants = statisticsAreConstants;
    }

    /// <summary>
    /// Keras's <c>Normalization(mean=..., variance=...)</c>: the statistics are constants of the layer, not weights. One
    /// value applies to every channel (Keras broadcasts a scalar); otherwise one per channel.
    /// </summary>
    /// <exception cref="ArgumentException">The statistics are missing, of different lengths, or a variance is negative.</exception>
    public static Normalization Constant(string name, float[] mean, float[] variance) => new(name, mean, variance, statisticsAreConstants: true);

    /// <summary>Whether the statistics are constants of the layer (<see cref="Constant"/>) rather than weights.</summary>
    public bool StatisticsAreConstants { get; }

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleInput(inputShapes);
        int? expected = StatisticsAreConstants ? (_mean!.Length == 1 ? null : _mean.Length)
                      : IsBuilt ? GetWeight("mean").Shape[0] : _mean?.Length ?? input.Channels;
        if (expected is { } channels && input.Channels != channels) throw Error($"expected input with {channels} channels, got {input}");
        return input;
    }

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes)
    {
        if (StatisticsAreConstants) return;
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
        int channels = inputShapes[0].Channels;
        ReadOnlySpan<float> mean = StatisticsAreConstants ? _mean : GetWeight("mean").Value.Span;
        ReadOnlySpan<float> variance = StatisticsAreConstants ? _variance : GetWeight("variance").Value.Span;
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            int i = mean.Length == 1 ? 0 : c;
            double inverse = 1.0 / Math.Max(Math.Sqrt(variance[i]), 1e-7);
            scale[c] = (float)inverse;
            shift[c] = (float)(-mean[i] * inverse);
        }
        return new ChannelAffineOp(scale, shift, ActivationFunction.Linear);
    }

    /// <summary>
    /// The Keras config form of <c>Normalization</c>: mean and variance, on the channel axis; statistics in the config
    /// make a <see cref="Constant"/> layer, none an adapted one whose statistics are weights; invert=True is refused
    /// (see <see cref="KerasLayerRegistry"/>).
    /// </summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Normalization>("Normalization",
        read: c =>
        {
            if (c.Bool("invert", false)) throw c.Unsupported("invert=True");
            int axis = c.AxisOrFirst("axis", -1);
            if (axis is not (-1 or 3)) throw c.Unsupported($"axis {axis} (only the channel axis)");
            float[]? mean = c.OptionalFloatList("mean"), variance = c.OptionalFloatList("variance");
            if (mean is null && variance is null) return new Normalization(c.LayerName);
            if (mean is null || variance is null) throw new InvalidDataException($"{c.LayerName} (Normalization): 'mean' and 'variance' go together; the config gives only one.");
            if (mean.Length != variance.Length)
                throw new InvalidDataException($"{c.LayerName} (Normalization): 'mean' has {mean.Length} values and 'variance' {variance.Length}; they must match.");
            if (variance.Any(v => v < 0)) throw new InvalidDataException($"{c.LayerName} (Normalization): 'variance' has a negative value.");
            return Constant(c.LayerName, mean, variance);
        },
        write: (layer, c) =>
        {
            c.Int("axis", -1);
            if (layer.StatisticsAreConstants)
            {
                c.FloatOrList("mean", layer._mean!);
                c.FloatOrList("variance", layer._variance!);
            }
            else
            {
                // The statistics travel as the layer's weights (mean, variance, count), as Keras saves an adapted layer.
                c.Null("mean");
                c.Null("variance");
            }
            c.Bool("invert", false);
        },
        weightNames: ["mean", "variance", "count"]);
}
