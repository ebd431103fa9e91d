using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>Rescaling</c>: <c>x · scale + offset</c>, with a scalar or per-channel scale and offset (Keras ≥ 2.13.1 uses a
/// per-channel scale in EfficientNet's stem to undo the Normalization variance mix-up).
/// </summary>
public sealed class Rescaling : Layer
{
    /// <summary>Creates the layer with scalar arguments.</summary>
    public Rescaling(string name, float scale, float offset = 0f) : this(name, [scale], [offset]) { }

    /// <summary>Creates the layer with one value, or one per channel, for each argument.</summary>
    public Rescaling(string name, float[] scale, float[] offset) : base(name)
    {
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(offset);
        if (scale.Length == 0 || offset.Length == 0) throw new ArgumentException($"{name}: scale and offset need at least one value.");
        Scale = scale;
        Offset = offset;
    }

    /// <summary>The scale: one value, or one per channel.</summary>
    public IReadOnlyList<float> Scale { get; }

    /// <summary>The offset: one value, or one per channel.</summary>
    public IReadOnlyList<float> Offset { get; }

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleInput(inputShapes);
        foreach (var (what, values) in new[] { ("scale", Scale), ("offset", Offset) })
        {
            if (values.Count != 1 && values.Count != input.Channels)
                throw Error($"{what} has {values.Count} values; expected 1 or {input.Channels} for input {input}");
        }
        return input;
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes)
    {
        int channels = inputShapes[0].Channels;
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = Scale[Scale.Count == 1 ? 0 : c];
            shift[c] = Offset[Offset.Count == 1 ? 0 : c];
        }
        return new ChannelAffineOp(scale, shift, ActivationFunction.Linear);
    }

    /// <summary>The Keras config form of <c>Rescaling</c>: scale and offset, each one value or one per channel (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Rescaling>("Rescaling",
        read: c => new Rescaling(c.LayerName, c.FloatOrList("scale"), c.FloatOrList("offset", 0f)),
        write: (layer, c) =>
        {
            c.FloatOrList("scale", layer.Scale);
            c.FloatOrList("offset", layer.Offset);
        });
}
