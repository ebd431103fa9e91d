using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>
/// <see cref="ActivationBackwardKernels"/> at every SIMD width against float64 derivatives written from the
/// definitions (TensorFlow's choices at the kinks), which are themselves checked by central differences away from the kinks.
/// </summary>
public class ActivationBackwardKernelTests(ITestOutputHelper output)
{
    private const double Lambda = 1.0507009873554804934, LambdaAlpha = 1.7580993408473768599;

    /// <summary>One activation: the float64 forward, the float64 derivative from the saved value, whether that value is the output, and the kernel.</summary>
    private sealed record Case(Func<double, double> Forward, Func<double, double> Derivative, bool UsesOutput, double[] Kinks,
                               Action<float[], float[], float[], SimdWidth> Kernel);

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
    private static double HardSigmoid(double x) => Math.Clamp(x + 3, 0, 6) / 6;
    // The mask tests the float sum x + 3, as TensorFlow's Relu6Grad sees it: 2.9999998f + 3 rounds to 6, a kink.
    private static double HardSigmoidSlope(double x) => (float)x + 3f is > 0f and < 6f ? 1.0 / 6 : 0;
    private static double Erf(double x) => ReferenceElementwiseErf(x);

    private static readonly Dictionary<string, Case> s_cases = new()
    {
        ["relu"] = new(x => Math.Max(x, 0), y => y > 0 ? 1 : 0, true, [0],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new ReluGradient(), w)),
        ["relu6"] = new(x => Math.Clamp(x, 0, 6), y => y > 0 && y < 6 ? 1 : 0, true, [0, 6],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new BoundedReluGradient(6f), w)),
        ["sigmoid"] = new(Sigmoid, y => y * (1 - y), true, [],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new SigmoidGradient(), w)),
        ["tanh"] = new(Math.Tanh, y => 1 - y * y, true, [],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new TanhGradient(), w)),
        ["swish"] = new(x => x * Sigmoid(x), x => Sigmoid(x) * (1 + x * (1 - Sigmoid(x))), false, [],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new SwishGradient(), w)),
        ["hard_sigmoid"] = new(HardSigmoid, HardSigmoidSlope, false, [-3, 3],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new HardSigmoidGradient(), w)),
        ["hard_swish"] = new(x => x * HardSigmoid(x), x => HardSigmoid(x) + x * HardSigmoidSlope(x), false, [-3, 3],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new HardSwishGradient(), w)),
        ["gelu"] = new(x => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
            x => 0.5 * (1 + Erf(x / Math.Sqrt(2))) + x * Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI), false, [],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new GeluGradient(), w)),
        ["elu"] = new(x => x > 0 ? x : Math.Exp(x) - 1, x => x > 0 ? 1 : Math.Exp(x), false, [0],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new EluGradient(1f), w)),
        ["elu0.5"] = new(x => x > 0 ? x : 0.5 * (Math.Exp(x) - 1), x => x > 0 ? 1 : 0.5 * Math.Exp(x), false, [0],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new EluGradient(0.5f), w)),
        ["selu"] = new(x => x > 0 ? Lambda * x : LambdaAlpha * (Math.Exp(x) - 1), x => x < 0 ? LambdaAlpha * Math.Exp(x) : Lambda, false, [0],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new SeluGradient(), w)),
        ["softplus"] = new(x => Math.Log(1 + Math.Exp(x)), Sigmoid, false, [],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new SoftplusGradient(), w)),
        ["leaky_relu"] = new(x => x > 0 ? x : 0.2 * x, x => x > 0 ? 1 : 0.2, false, [0],
            (s, dy, dx, w) => ActivationBackwardKernels.Apply(s, dy, dx, new LeakyReluGradient(0.2f), w)),
    };

    public static TheoryData<string> Names => [.. s_cases.Keys];

    public static TheoryData<string, SimdWidth> NamesAndWidths()
    {
        var data = new TheoryData<string, SimdWidth>();
        foreach (string name in s_cases.Keys)
            foreach (var width in SimdSupport.AllWidthsAndAuto) data.Add(name, width);
        return data;
    }

    /// <summary>Seeded values in [−8, 8] and the kinks and their neighbours, so every lane position meets them.</summary>
    private static float[] Inputs(int seed, int length)
    {
        var x = TestData.Uniform(seed, length, -8f, 8f);
        float[] special = [0f, -0f, 3f, -3f, 6f, 2.9999998f, -2.9999998f, 3.0000002f, -3.0000002f, 5.9999995f, 6.0000005f, 1e-7f, -1e-7f, 1e-30f];
        for (int i = 0; i < length; i += 3) x[i] = special[(i / 3 + seed) % special.Length];
        return x;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ReferenceDerivativeMatchesFiniteDifferences(string name)
    {
        var c = s_cases[name];
        var x = TestData.Uniform(7, 400, -8f, 8f);
        foreach (float v in x)
        {
            if (c.Kinks.Any(k => Math.Abs(v - k) < 1e-3)) continue;
            double h = 1e-5, numeric = (c.Forward(v + h) - c.Forward(v - h)) / (2 * h);
            double analytic = c.Derivative(c.UsesOutput ? c.Forward(v) : v);
            Assert.True(Math.Abs(analytic - numeric) <= 1e-7 * Math.Max(1, Math.Abs(numeric)), $"{name}'({v}): analytic {analytic:R}, finite difference {numeric:R}");
        }
    }

    [Theory]
    [MemberData(nameof(NamesAndWidths))]
    public void GradientMatchesReference(string name, SimdWidth width)
    {
        var c = s_cases[name];
        double worst = 0;
        foreach (int length in Enumerable.Range(0, 68).Append(1000))
        {
            var x = Inputs(length + 11, length);
            var saved = c.UsesOutput ? x.Select(v => (float)c.Forward(v)).ToArray() : x;
            var dy = TestData.Uniform(length * 3 + 1, length);
            var expected = new double[length];
            for (int i = 0; i < length; i++) expected[i] = dy[i] * c.Derivative(saved[i]);
            var dx = DenseBackwardKernelTests.Filled(length, float.NaN);
            c.Kernel(saved, dy, dx, width);
            worst = Math.Max(worst, BackwardAssert.Close(expected, dx, 1.0, $"{name} length {length} at {width}"));
            // In place: the input gradient overwrites the output gradient.
            c.Kernel(saved, dy, dy, width);
            BackwardAssert.Close(expected, dy, 1.0, $"{name} in place, length {length} at {width}");
        }
        output.WriteLine($"max error relative to max(|expected|, 1): {worst:E3}");
    }

    private static double[] SoftmaxReference(double[] z, int rowLength)
    {
        var y = new double[z.Length];
        for (int r = 0; r < z.Length; r += rowLength)
        {
            double max = z.Skip(r).Take(rowLength).Max(), sum = 0;
            for (int j = 0; j < rowLength; j++) sum += y[r + j] = Math.Exp(z[r + j] - max);
            for (int j = 0; j < rowLength; j++) y[r + j] /= sum;
        }
        return y;
    }

    private static double[] SoftmaxBackwardReference(double[] y, double[] dy, int rowLength)
    {
        var dx = new double[y.Length];
        for (int r = 0; r < y.Length; r += rowLength)
        {
            double dot = 0;
            for (int j = 0; j < rowLength; j++) dot += dy[r + j] * y[r + j];
            for (int j = 0; j < rowLength; j++) dx[r + j] = y[r + j] * (dy[r + j] - dot);
        }
        return dx;
    }

    [Fact]
    public void SoftmaxReferenceMatchesFiniteDifferences()
    {
        var z = ReferenceBackward.D(TestData.Uniform(5, 3 * 7, -3f, 3f));
        var dy = ReferenceBackward.D(TestData.Uniform(6, 3 * 7));
        var analytic = SoftmaxBackwardReference(SoftmaxReference(z, 7), dy, 7);
        ReferenceBackward.AssertMatchesFiniteDifference(analytic, ReferenceBackward.FiniteDifference(z, dy, v => SoftmaxReference(v, 7)), "softmax");
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void SoftmaxGradientMatchesReference(SimdWidth width)
    {
        double worst = 0;
        foreach (int rowLength in new[] { 1, 3, 10, 16, 17, 33, 1000 })
        {
            int rows = 3;
            var z = ReferenceBackward.D(TestData.Uniform(rowLength, rows * rowLength, -4f, 4f));
            var y = SoftmaxReference(z, rowLength).Select(v => (float)v).ToArray();
            var dy = TestData.Uniform(rowLength + 1, rows * rowLength);
            var expected = SoftmaxBackwardReference(ReferenceBackward.D(y), ReferenceBackward.D(dy), rowLength);
            var dx = DenseBackwardKernelTests.Filled(y.Length, float.NaN);
            ActivationBackwardKernels.Softmax(y, dy, dx, rowLength, width);
            worst = Math.Max(worst, BackwardAssert.Close(expected, dx, BackwardAssert.Scale(expected), $"softmax row {rowLength} at {width}"));
            ActivationBackwardKernels.Softmax(y, dy, dy, rowLength, width);
            BackwardAssert.Close(expected, dy, BackwardAssert.Scale(expected), $"softmax in place, row {rowLength} at {width}");
        }
        output.WriteLine($"max relative error {worst:E3}");
    }

    [Fact]
    public void WrongLengthsThrow()
    {
        Assert.Throws<ArgumentException>(() => ActivationBackwardKernels.Apply(new float[3], new float[4], new float[3], new ReluGradient()));
        Assert.Throws<ArgumentException>(() => ActivationBackwardKernels.Softmax(new float[7], new float[7], new float[7], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => ActivationBackwardKernels.Softmax(new float[6], new float[6], new float[6], 0));
    }

    /// <summary>erf in float64 (Abramowitz–Stegun would be too coarse): the series below 2.5, the continued fraction of erfc above.</summary>
    private static double ReferenceElementwiseErf(double x)
    {
        double a = Math.Abs(x);
        double result;
        if (a < 2.5)
        {
            // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1)).
            double term = a, sum = a, x2 = a * a;
            for (int n = 1; n < 80; n++)
            {
                term *= -x2 / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(x) = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), evaluated from the tail.
            double f = 0;
            for (int n = 60; n >= 1; n--) f = n / 2.0 / (a + f);
            result = 1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / (a + f);
        }
        return x < 0 ? -result : result;
    }
}
