using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>Dropout</c>; the identity at inference, kept so that layer names and counts match Keras.</summary>
public sealed class Dropout : Layer
{
    /// <summary>Creates the layer.</summary>
    public Dropout(string name, double rate) : base(name)
    {
        if (!(rate is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(rate), $"{name}: rate must be in [0, 1), got {rate}.");
        Rate = rate;
    }

    /// <summary>The training-time drop rate (unused at inference).</summary>
    public double Rate { get; }

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes) => ExpectSingleInput(inputShapes);

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new CopyOp();

    /// <summary>The Keras config form of <c>Dropout</c>: rate (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Dropout>("Dropout",
        read: c => new Dropout(c.LayerName, c.Double("rate")),
        write: (layer, c) => c.Double("rate", layer.Rate));
}
