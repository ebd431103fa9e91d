using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>BatchNormalization</c> at inference, on the last axis: <c>y = (x − moving_mean) / sqrt(moving_variance + ε) · gamma + beta</c>.
/// Weights in Keras order: <c>gamma</c>, <c>beta</c> (trainable), <c>moving_mean</c>, <c>moving_variance</c> (not trainable).
/// </summary>
/// <remarks>
/// It runs as a per-channel scale and shift computed once in float64 (Keras 3's <c>x·inv + (beta − mean·inv)</c> form).
/// Keras's default epsilon is 1e-3; ResNet uses 1.001e-5.
/// </remarks>
/// <param name="name">The layer name.</param>
/// <param name="epsilon">Added to the variance before the square root.</param>
/// <param name="center">Whether <c>beta</c> exists.</param>
/// <param name="scale">Whether <c>gamma</c> exists.</param>
/// <param name="momentum">The moving-average rate of training.</param>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> is negative or NaN, or <paramref name="momentum"/> is outside [0, 1].</exception>
public sealed class BatchNormalization(string name, double epsilon = 1e-3, bool center = true, bool scale = true, double momentum = 0.99)
    : Layer(name)
{
    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon { get; } = epsilon >= 0 ? epsilon
        : throw new ArgumentOutOfRangeException(nameof(epsilon), $"{name}: epsilon must be non-negative, got {epsilon}.");
    /// <summary>
    /// The moving-average rate of training: <c>moving = moving·momentum + batch·(1 − momentum)</c> (Keras's default 0.99;
    /// EfficientNetV2 uses 0.9).
    /// </summary>
    public double Momentum { get; } = momentum is >= 0 and <= 1 ? momentum
        : throw new ArgumentOutOfRangeException(nameof(momentum), $"{name}: momentum must be in [0, 1], got {momentum}.");
    /// <summary>Whether <c>beta</c> exists.</summary>
    public bool Center { get; } = center;
    /// <summary>Whether <c>gamma</c> exists.</summary>
    public bool Scale { get; } = scale;

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleInput(inputShapes);
        ExpectBuiltChannels(input, "moving_mean", 0);
        return input;
    }

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes)
    {
        var shape = new TensorShape(inputShapes[0].Channels);
        if (Scale) AddWeight("gamma", shape, Initializer.Ones);
        if (Center) AddWeight("beta", shape, Initializer.Zeros);
        AddWeight("moving_mean", shape, Initializer.Zeros, trainable: false);
        AddWeight("moving_variance", shape, Initializer.Ones, trainable: false);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes)
    {
        int channels = inputShapes[0].Channels;
        var scale = new float[channels];
        var shift = new float[channels];
        BatchNormalizationMath.ComputeScaleShift(
            Scale ? GetWeight("gamma").Value.Span : default, Center ? GetWeight("beta").Value.Span : default,
            GetWeight("moving_mean").Value.Span, GetWeight("moving_variance").Value.Span, Epsilon, scale, shift);
        return new ChannelAffineOp(scale, shift, ActivationFunction.Linear);
    }

    /// <summary>
    /// While training, a trainable layer normalizes with the batch's own mean and biased variance and updates the moving
    /// statistics; a frozen one (<see cref="Layer.Trainable"/> false) runs as at inference, as Keras does.
    /// </summary>
    public override OpDescriptor CreateTrainingOp(IReadOnlyList<TensorShape> inputShapes) =>
        Trainable ? new BatchNormalizationOp(Epsilon, Momentum, Center, Scale) : CreateOp(inputShapes);

    /// <inheritdoc/>
    public override string Describe() => $"BatchNormalization eps={Epsilon:G4}";

    /// <summary>The Keras config form of <c>BatchNormalization</c>: epsilon, center, scale on the channel axis (-1 or 3) (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<BatchNormalization>("BatchNormalization",
        read: c =>
        {
            int axis = c.AxisOrFirst("axis", -1);
            if (axis is not (-1 or 3)) throw c.Unsupported($"axis {axis} (only the channel axis, -1 or 3)");
            return new BatchNormalization(c.LayerName, c.Double("epsilon", 1e-3), c.Bool("center", true), c.Bool("scale", true), c.Double("momentum", 0.99));
        },
        write: (layer, c) =>
        {
            c.Int("axis", -1);
            c.Double("momentum", layer.Momentum);
            c.Double("epsilon", layer.Epsilon);
            c.Bool("center", layer.Center);
            c.Bool("scale", layer.Scale);
        },
        weightNames: ["gamma", "beta", "moving_mean", "moving_variance"]);
}
