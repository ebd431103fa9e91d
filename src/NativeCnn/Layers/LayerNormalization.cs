using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>LayerNormalization</c> over the last axis: each position's values normalized by their own mean and biased
/// variance, then <c>· gamma + beta</c>. Weights: <c>gamma</c> (when <see cref="Scale"/>) and <c>beta</c> (when
/// <see cref="Center"/>), each of the last axis's length. Keras's default epsilon is 1e-3.
/// </summary>
/// <param name="name">The layer name.</param>
/// <param name="epsilon">Added to the variance before the square root.</param>
/// <param name="center">Whether <c>beta</c> exists.</param>
/// <param name="scale">Whether <c>gamma</c> exists.</param>
/// <param name="axis">The normalized axis; it must name the last axis: -1, or the rank's last index (Keras and
/// TensorFlow.js save the resolved index, 3 for NHWC), which is checked when the layer is called.</param>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> is negative or NaN.</exception>
public sealed class LayerNormalization(string name, double epsilon = 1e-3, bool center = true, bool scale = true, int axis = -1)
    : Layer(name)
{
    /// <summary>The normalized axis as given (-1, or the last index of the input's rank).</summary>
    public int Axis { get; } = axis;

    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon { get; } = epsilon >= 0 ? epsilon
        : throw new ArgumentOutOfRangeException(nameof(epsilon), $"{name}: epsilon must be non-negative, got {epsilon}.");

    /// <summary>Whether <c>beta</c> exists.</summary>
    public bool Center { get; } = center;

    /// <summary>Whether <c>gamma</c> exists.</summary>
    public bool Scale { get; } = scale;

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleInput(inputShapes);
        if (Axis != -1 && Axis != input.Rank - 1) throw Error($"axis {Axis} is not the last axis of {input}; only the last axis is normalized");
        if (Scale || Center) ExpectBuiltChannels(input, Scale ? "gamma" : "beta", 0);
        return input;
    }

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes)
    {
        var shape = new TensorShape(inputShapes[0].Channels);
        if (Scale) AddWeight("gamma", shape, Initializer.Ones);
        if (Center) AddWeight("beta", shape, Initializer.Zeros);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new LayerNormalizationOp(Epsilon, Center, Scale);

    /// <inheritdoc/>
    public override string Describe() => $"LayerNormalization eps={Epsilon:G4}";

    /// <summary>The Keras config form of <c>LayerNormalization</c>: axis (an integer or a list of one), epsilon, center, scale
    /// (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<LayerNormalization>("LayerNormalization",
        read: c =>
        {
            return new LayerNormalization(c.LayerName, c.Double("epsilon", 1e-3), c.Bool("center", true), c.Bool("scale", true), c.AxisOrFirst("axis", -1));
        },
        write: (layer, c) =>
        {
            c.Int("axis", layer.Axis);
            c.Double("epsilon", layer.Epsilon);
            c.Bool("center", layer.Center);
            c.Bool("scale", layer.Scale);
        },
        weightNames: ["gamma", "beta"]);
}
