using NativeCnn.Backends;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>hard_silu, leaky_relu, elu and selu at every SIMD width against float64 references (TensorFlow's formulas).</summary>
public sealed class KerasActivationTests
{
    /// <summary>Values across the range, dense near 0 (where expm1 must not cancel), the ends of exp, and the specials.</summary>
    private static float[] Inputs()
    {
        var values = new List<float> { 0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon,
                                       -3f, 3f, -2.9999998f, 3.0000002f, -0.5f, 0.5f, -0.49999997f, -87.5f, -100f, 100f };
        for (int i = -2000; i <= 2000; i++) values.Add(i * 0.01f);
        for (int e = -40; e <= 0; e++) { values.Add(-MathF.Pow(2, e) * 1.37f); values.Add(MathF.Pow(2, e) * 1.37f); }
        var random = new Random(3);
        for (int i = 0; i < 1000; i++) values.Add((random.NextSingle() - 0.5f) * 60f);
        return [.. values];
    }

    public static TheoryData<SimdWidth> Widths => SimdSupport.AllWidths;

    private static float[] Apply(ActivationFunction function, float[] input, SimdWidth width)
    {
        var output = new float[input.Length];
        var consumer = new Applier { Input = input, Output = output, Width = width };
        ActivationDispatch.Dispatch(function, ref consumer);
        return output;
    }

    private ref struct Applier : IActivationConsumer
    {
        public ReadOnlySpan<float> Input;
        public Span<float> Output;
        public SimdWidth Width;

        public readonly void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation =>
            ElementwiseKernels.Apply(Input, Output, activation, Width);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void HardSiluIsTensorFlowsSequenceOfRoundings(SimdWidth width)
    {
        var x = Inputs();
        var y = Apply(ActivationFunction.HardSwish, x, width);
        for (int i = 0; i < x.Length; i++)
        {
            float t = x[i] + 3f;
            t = t < 0 ? 0 : t > 6 ? 6 : t;
            float expected = x[i] * (t / 6f);
            Assert.True(expected.Equals(y[i]), $"hard_silu({x[i]:R}) = {y[i]:R}, expected {expected:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void LeakyReluScalesOnlyTheNegativePart(SimdWidth width)
    {
        var x = Inputs();
        foreach (float slope in new[] { 0.2f, 0.3f, 0.01f })
        {
            var y = Apply(ActivationFunction.LeakyRelu(slope), x, width);
            for (int i = 0; i < x.Length; i++)
            {
                float expected = x[i] < 0 ? x[i] * slope : x[i];
                Assert.True(expected.Equals(y[i]), $"leaky_relu({x[i]:R}, {slope}) = {y[i]:R}, expected {expected:R}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void EluAndSeluAreWithinThreeUlpOfFloat64(SimdWidth width)
    {
        var x = Inputs();
        const double lambda = 1.0507009873554804934193349852946, lambdaAlpha = 1.7580993408473768599402175208123;
        foreach (var (function, reference) in new (ActivationFunction, Func<double, double>)[]
                 {
                     (ActivationFunction.Elu(), v => v < 0 ? Expm1(v) : v),
                     (ActivationFunction.Elu(0.7f), v => v < 0 ? 0.7f * Expm1(v) : v),
                     (ActivationFunction.Selu, v => v < 0 ? (float)lambdaAlpha * Expm1(v) : (float)lambda * v),
                 })
        {
            var y = Apply(function, x, width);
            for (int i = 0; i < x.Length; i++)
            {
                double expected = reference(x[i]);
                if (double.IsNaN(expected)) { Assert.True(float.IsNaN(y[i]), $"{function}({x[i]}) = {y[i]}, expected NaN"); continue; }
                if (double.IsInfinity(expected)) { Assert.Equal(expected, y[i]); continue; }
                double ulp = Math.Max(MathF.BitIncrement(MathF.Abs((float)expected)) - MathF.Abs((float)expected), float.Epsilon);
                Assert.True(Math.Abs(y[i] - expected) <= 3 * ulp, $"{function}({x[i]:R}) = {y[i]:R}, expected {expected:R} ({Math.Abs(y[i] - expected) / ulp:F1} ulp)");
            }
        }
    }

    /// <summary>exp(x) − 1 in float64, without cancellation near 0.</summary>
    private static double Expm1(double x)
    {
        if (Math.Abs(x) >= 1e-5) return Math.Exp(x) - 1;
        return x + x * x / 2 + x * x * x / 6;
    }
}
