namespace NativeCnn.Layers;

/// <summary>How a new weight is filled, following Keras's defaults (weights are normally loaded afterwards).</summary>
public abstract class Initializer
{
    /// <summary>All zeros (Keras <c>zeros</c>: biases, beta, moving mean).</summary>
    public static Initializer Zeros { get; } = new ConstantInitializer(0f);

    /// <summary>All ones (Keras <c>ones</c>: gamma, moving variance).</summary>
    public static Initializer Ones { get; } = new ConstantInitializer(1f);

    /// <summary>Keras <c>glorot_uniform</c>: U(−l, l) with <c>l = sqrt(6 / (fanIn + fanOut))</c>, fans as Keras computes them.</summary>
    public static Initializer GlorotUniform { get; } = new GlorotUniformInitializer();

    /// <summary>A constant.</summary>
    public static Initializer Constant(float value) => new ConstantInitializer(value);

    /// <summary>Fills <paramref name="values"/> of <paramref name="shape"/>, deterministically from <paramref name="seed"/>.</summary>
    public abstract void Fill(Span<float> values, TensorShape shape, int seed);

    private sealed class ConstantInitializer(float value) : Initializer
    {
        public override void Fill(Span<float> values, TensorShape shape, int seed) => values.Fill(value);
    }

    private sealed class GlorotUniformInitializer : Initializer
    {
        public override void Fill(Span<float> values, TensorShape shape, int seed)
        {
            // Keras compute_fans: the last two dims are (in, out) and the leading dims are the receptive field.
            long receptive = 1;
            for (int i = 0; i < shape.Rank - 2; i++) receptive *= shape[i];
            double fanIn = shape.Rank >= 2 ? shape[-2] * receptive : shape[0];
            double fanOut = shape.Rank >= 2 ? shape[-1] * receptive : shape[0];
            double limit = Math.Sqrt(6.0 / Math.Max(1.0, fanIn + fanOut));
            var random = new Random(seed);
            for (int i = 0; i < values.Length; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * limit);
        }
    }
}
