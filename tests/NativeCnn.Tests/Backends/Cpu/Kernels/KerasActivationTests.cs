using NativeCnn.Backends;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>hard_silu, hard_sigmoid, leaky_relu, elu, selu, gelu and softplus at every SIMD width against float64 references (TensorFlow's formulas).</summary>
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

    [Theory]
    [MemberData(nameof(Widths))]
    public void HardSigmoidIsEachKerasVersionsSequenceOfRoundings(SimdWidth width)
    {
        var x = Inputs();
        var keras3 = Apply(ActivationFunction.HardSigmoid, x, width);
        var keras2 = Apply(ActivationFunction.HardSigmoidKeras2, x, width);
        for (int i = 0; i < x.Length; i++)
        {
            float t = x[i] + 3f;
            t = t < 0 ? 0 : t > 6 ? 6 : t;
            float expected3 = t / 6f;
            float u = x[i] * 0.2f + 0.5f;
            float expected2 = u < 0 ? 0 : u > 1 ? 1 : u;
            Assert.True(expected3.Equals(keras3[i]), $"Keras 3 hard_sigmoid({x[i]:R}) = {keras3[i]:R}, expected {expected3:R}");
            Assert.True(expected2.Equals(keras2[i]), $"Keras 2 hard_sigmoid({x[i]:R}) = {keras2[i]:R}, expected {expected2:R}");
        }
        // The two meanings differ (0.2 is not 1/6): a test that mixed them up would fail here.
        Assert.NotEqual(keras3[Array.IndexOf(x, 0.5f)], keras2[Array.IndexOf(x, 0.5f)]);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void GeluIsWithinAFewUlpOfFloat64(SimdWidth width)
    {
        var x = Inputs();
        var y = Apply(ActivationFunction.Gelu, x, width);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i], expected = 0.5 * v * (1 + Erf(v / Math.Sqrt(2)));
            if (double.IsNaN(v)) { Assert.True(float.IsNaN(y[i])); continue; }
            if (double.IsInfinity(v)) { Assert.Equal(v > 0 ? double.PositiveInfinity : double.NaN, (double)y[i]); continue; }
            // TensorFlow's form rounds 1 + erf(x/√2) to float, so below 0 the error is absolute: a few ulp of 0.5·|x|.
            double ulp = Math.Max(MathF.BitIncrement(MathF.Abs((float)expected)) - MathF.Abs((float)expected), float.Epsilon);
            double tolerance = 4 * ulp + (v < 0 ? 0.5 * -v * 4 * Math.Pow(2, -24) : 0);
            Assert.True(Math.Abs(y[i] - expected) <= tolerance, $"gelu({x[i]:R}) = {y[i]:R}, expected {expected:R}");
        }
        // Spot values: gelu(1) = 0.841344746..., gelu(-1) = -0.158655253...
        Assert.Equal(0.8413447460685429, Apply(ActivationFunction.Gelu, [1f], width)[0], 6);
        Assert.Equal(-0.15865525393145707, Apply(ActivationFunction.Gelu, [-1f], width)[0], 6);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void SoftplusIsWithinThreeUlpOfFloat64(SimdWidth width)
    {
        var x = Inputs();
        var y = Apply(ActivationFunction.Softplus, x, width);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            // TensorFlow's piecewise definition: x above 13.94, exp(x) below −13.94 (each within float's epsilon of log1p(exp(x))).
            const double threshold = -13.942385152878742;
            double expected = v > -threshold ? v : v < threshold ? Math.Exp(v) : Log1p(Math.Exp(v));
            if (double.IsNaN(v)) { Assert.True(float.IsNaN(y[i])); continue; }
            if (double.IsPositiveInfinity(v)) { Assert.Equal(float.PositiveInfinity, y[i]); continue; }
            double ulp = Math.Max(MathF.BitIncrement(MathF.Abs((float)expected)) - MathF.Abs((float)expected), float.Epsilon);
            // Below −87 exp gives the smallest normal (as the sigmoid's does), not a denormal: an absolute 1.2e-38.
            Assert.True(Math.Abs(y[i] - expected) <= 3 * ulp + 1.2e-38, $"softplus({x[i]:R}) = {y[i]:R}, expected {expected:R}");
        }
        Assert.Equal(Math.Log(2), Apply(ActivationFunction.Softplus, [0f], width)[0], 7);
    }

    /// <summary>log(1 + t) in float64 without rounding 1 + t for tiny t.</summary>
    private static double Log1p(double t) => Math.Abs(t) < 1e-5 ? t - t * t / 2 + t * t * t / 3 : Math.Log(1 + t);

    /// <summary>erf in float64 (Abramowitz-Stegun 7.1.5 series below 3, the asymptotic continued fraction above): 1e-15.</summary>
    private static double Erf(double x)
    {
        double a = Math.Abs(x);
        double result;
        if (a < 3)
        {
            // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
            double term = a, sum = a;
            for (int n = 1; n < 100; n++)
            {
                term *= -a * a / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(x) = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
            double f = a;
            for (int n = 60; n >= 1; n--) f = a + n / 2.0 / f;
            result = 1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -result : result;
    }

    /// <summary>exp(x) − 1 in float64, without cancellation near 0.</summary>
    private static double Expm1(double x)
    {
        if (Math.Abs(x) >= 1e-5) return Math.Exp(x) - 1;
        return x + x * x / 2 + x * x * x / 6;
    }
}
