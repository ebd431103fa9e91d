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

    /// <summary>While training: Keras's inverted dropout, each value kept with probability 1 − rate and scaled by 1 / (1 − rate).</summary>
    public override OpDescriptor CreateTrainingOp(IReadOnlyList<TensorShape> inputShapes) =>
        Rate == 0 ? new CopyOp() : new DropoutOp(Rate, NoiseShapeIsPerSample, SeedFor("dropout"));

    /// <summary>
    /// Whether one keep-or-drop decision covers a whole sample (Keras <c>noise_shape=(None, 1, 1, 1)</c>, EfficientNet's
    /// drop-connect) instead of one per value.
    /// </summary>
    public bool NoiseShapeIsPerSample { get; init; }

    /// <summary>The Keras config form of <c>Dropout</c>: rate (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Dropout>("Dropout",
        read: c => new Dropout(c.LayerName, c.Double("rate")) { NoiseShapeIsPerSample = ReadNoiseShape(c) },
        write: (layer, c) =>
        {
            c.Double("rate", layer.Rate);
            if (layer.NoiseShapeIsPerSample) c.DimensionList("noise_shape", [-1, 1, 1, 1]);
        });

    // Keras's noise_shape: absent (one decision per value) or (None, 1, 1, 1) (one per sample); other shapes are not implemented.
    private static bool ReadNoiseShape(KerasConfigReader c)
    {
        if (!c.Has("noise_shape")) return false;
        int[] shape = c.DimensionList("noise_shape");
        if (shape is [-1, 1, 1, 1]) return true;
        throw c.Unsupported($"noise_shape [{string.Join(", ", shape.Select(d => d == -1 ? "None" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}] (only None or (None, 1, 1, 1))");
    }
}
