using System.Runtime.Intrinsics;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Tests.Backends.Cpu;

/// <summary>
/// The width-generic SIMD layer: every <see cref="ILanes{TVector}"/> operation at each of the four widths against
/// plain float (and, for exp and the sigmoid, double) math, element by element, on every processor (a width the
/// processor lacks runs in software and must give the same results).
/// </summary>
public class SimdLanesTests
{
    public static TheoryData<SimdWidth> Widths => NativeCnn.Tests.Backends.Cpu.Kernels.SimdSupport.AllWidths;

    private static readonly float[] s_specials = [0f, -0f, 1f, -1f, 0.5f, -2.5f, 3.5f, 1e-30f, -1e30f, float.MaxValue, float.MinValue,
                                                  float.PositiveInfinity, float.NegativeInfinity, float.NaN, 88.5f, -90f];

    [Theory]
    [MemberData(nameof(Widths))]
    public void ElementwiseOperationsMatchFloatMath(SimdWidth width)
    {
        var x = Inputs(seed: 1);
        var y = Inputs(seed: 2);
        var z = Inputs(seed: 3);
        Check(width, x, y, z, "add", (a, b, _) => a + b);
        Check(width, x, y, z, "subtract", (a, b, _) => a - b);
        Check(width, x, y, z, "multiply", (a, b, _) => a * b);
        Check(width, x, y, z, "divide", (a, b, _) => a / b);
        Check(width, x, y, z, "multiplyadd", MathF.FusedMultiplyAdd);
        Check(width, x, y, z, "max", (a, b, _) => MathF.Max(a, b));
        Check(width, x, y, z, "min", (a, b, _) => MathF.Min(a, b));
        Check(width, x, y, z, "abs", (a, _, _) => MathF.Abs(a));
        Check(width, x, y, z, "negate", (a, _, _) => -a);
        Check(width, x, y, z, "round", (a, _, _) => MathF.Round(a, MidpointRounding.ToEven));
        Check(width, x, y, z, "copysign", (a, b, _) => MathF.CopySign(a, b));
        Check(width, x, y, z, "lessthan", (a, b, c) => a < b ? c : a);
        Check(width, x, y, z, "greaterthan", (a, b, c) => a > b ? c : a);
        Check(width, x, y, z, "greaterorequal", (a, b, c) => a >= b ? c : a);
        Check(width, x, y, z, "equal", (a, b, c) => a == b ? c : a);
        var n = new float[x.Length];
        for (int i = 0; i < n.Length; i++) n[i] = (i * 37 % 254) - 126;
        Check(width, x, n, z, "scale", (a, b, _) => a * MathF.Pow(2f, b));
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void NativeMinAndMaxAgreeWithIeeeOnesExceptForNaNInTheFirstOperandAndSignedZeros(SimdWidth width)
    {
        var x = Inputs(seed: 5);
        var y = Inputs(seed: 6);
        var output = new float[x.Length];
        foreach (bool max in (bool[])[true, false])
        {
            var kernel = new Binary(x, y, y, output, max ? "maxnative" : "minnative");
            SimdDispatch.Run(width, ref kernel);
            for (int i = 0; i < x.Length; i++)
            {
                string what = $"{width} {(max ? "max" : "min")}native({x[i]:R}, {y[i]:R})";
                if (float.IsNaN(y[i])) Assert.True(float.IsNaN(output[i]), what + " must be NaN");
                else if (!float.IsNaN(x[i]) && !(x[i] == 0 && y[i] == 0)) Assert.True((max ? MathF.Max(x[i], y[i]) : MathF.Min(x[i], y[i])) == output[i], what);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void HorizontalSumAndMaxMatchFloatMath(SimdWidth width)
    {
        int lanes = (int)width;
        var x = Inputs(seed: 4);
        var sums = new float[x.Length / lanes];
        var maxima = new float[x.Length / lanes];
        var kernel = new Horizontal(x, sums, maxima);
        SimdDispatch.Run(width, ref kernel);
        for (int v = 0; v < sums.Length; v++)
        {
            var group = x.AsSpan(v * lanes, lanes);
            double sum = 0;
            float max = float.NegativeInfinity;
            foreach (float value in group) { sum += value; max = MathF.Max(max, value); }
            bool finite = !group.ContainsAnyExcept(0f) || IsAllFinite(group);
            if (finite && !double.IsInfinity(sum) && Math.Abs(sum) < 1e30) Assert.Equal(sum, sums[v], Math.Max(1e-4, Math.Abs(sum) * 1e-5));
            Assert.Equal(max, maxima[v]);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public unsafe void PartialLoadsAndStoresTouchOnlyTheirLanes(SimdWidth width)
    {
        int lanes = (int)width;
        for (int count = 1; count < lanes; count++)
        {
            var source = new float[lanes];
            var destination = new float[lanes + 1];
            for (int i = 0; i < lanes; i++) source[i] = i + 1;
            Array.Fill(destination, -7f);
            fixed (float* s = source)
            fixed (float* d = destination)
            {
                var kernel = new Partial(s, d, count);
                SimdDispatch.Run(width, ref kernel);
            }
            for (int i = 0; i < lanes + 1; i++) Assert.Equal(i < count ? i + 1 : -7f, destination[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void ExpIsWithinTwoUlpOfDouble(SimdWidth width)
    {
        var x = Sweep(-87f, 88f);
        var y = Evaluate(width, x, exp: true);
        for (int i = 0; i < x.Length; i++) AssertUlps(Math.Exp(x[i]), y[i], 2, $"exp({x[i]:R})");
        var edges = Evaluate(width, [89f, 1e10f, float.PositiveInfinity, -100f, float.NaN, 0f, -0f, 1f], exp: true);
        Assert.Equal([float.PositiveInfinity, float.PositiveInfinity, float.PositiveInfinity], edges[..3]);
        Assert.True(edges[3] is > 0f and < 1e-37f, $"exp(-100) = {edges[3]}");
        Assert.True(float.IsNaN(edges[4]));
        Assert.Equal([1f, 1f], edges[5..7]);
        AssertUlps(Math.E, edges[7], 1, "exp(1)");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void SigmoidIsWithinAFewUlpOfDouble(SimdWidth width)
    {
        // The one-constant range reduction loses accuracy as |x| grows: at most 3 ulp above -20, 6 ulp down to -87.
        var x = Sweep(-87f, 40f);
        var y = Evaluate(width, x, exp: false);
        for (int i = 0; i < x.Length; i++) AssertUlps(1 / (1 + Math.Exp(-(double)x[i])), y[i], x[i] < -20f ? 6 : 3, $"sigmoid({x[i]:R})");
        var edges = Evaluate(width, [-100f, float.NegativeInfinity, 100f, float.PositiveInfinity, float.NaN, 0f, -0f, -87.5f], exp: false);
        Assert.Equal([0f, 0f, 1f, 1f], edges[..4]);
        Assert.True(float.IsNaN(edges[4]), "NaN must stay NaN");
        Assert.Equal([0.5f, 0.5f, 0f], edges[5..]);
    }

    [Fact]
    public void RunDispatchesToTheRequestedWidthAndAutoToTheBest()
    {
        Assert.Equal(1, LaneCount(SimdWidth.Scalar));
        Assert.Equal(4, LaneCount(SimdWidth.Vector128));
        Assert.Equal(8, LaneCount(SimdWidth.Vector256));
        Assert.Equal(16, LaneCount(SimdWidth.Vector512));
        Assert.Equal((int)SimdDispatch.Best, LaneCount(SimdWidth.Auto));
        var expected = Vector512.IsHardwareAccelerated ? SimdWidth.Vector512 : Vector256.IsHardwareAccelerated ? SimdWidth.Vector256
            : Vector128.IsHardwareAccelerated ? SimdWidth.Vector128 : SimdWidth.Scalar;
        Assert.Equal(expected, SimdDispatch.Best);
        Assert.True(SimdDispatch.IsAccelerated(SimdWidth.Auto));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SimdDispatch.Resolve((SimdWidth)3));
        Assert.Contains("not a SIMD width", e.Message);
    }

    private static int LaneCount(SimdWidth width)
    {
        var kernel = new CountLanes();
        SimdDispatch.Run(width, ref kernel);
        return kernel.Lanes;
    }

    private static bool IsAllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values) if (!float.IsFinite(v)) return false;
        return true;
    }

    private static void AssertUlps(double expected, float actual, int ulps, string what)
    {
        float e = (float)expected;
        long distance = Math.Abs((long)BitConverter.SingleToInt32Bits(e) - BitConverter.SingleToInt32Bits(actual));
        Assert.True(distance <= ulps, $"{what}: expected {e:R}, got {actual:R} ({distance} ulp)");
    }

    private static float[] Sweep(float from, float to)
    {
        var x = new float[4096];
        for (int i = 0; i < x.Length; i++) x[i] = from + (to - from) * i / (x.Length - 1);
        return x;
    }

    private static float[] Inputs(int seed)
    {
        var random = new Random(seed);
        var x = new float[512];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 20 - 10);
        for (int i = 0; i < s_specials.Length; i++) x[(i * 31 + seed * 7) % x.Length] = s_specials[i];
        return x;
    }

    private static void Check(SimdWidth width, float[] x, float[] y, float[] z, string operation, Func<float, float, float, float> expected)
    {
        var output = new float[x.Length];
        var kernel = new Binary(x, y, z, output, operation);
        SimdDispatch.Run(width, ref kernel);
        for (int i = 0; i < x.Length; i++)
        {
            float e = expected(x[i], y[i], z[i]);
            Assert.True(BitConverter.SingleToInt32Bits(e) == BitConverter.SingleToInt32Bits(output[i]) || (float.IsNaN(e) && float.IsNaN(output[i])),
                        $"{width} {operation}({x[i]:R}, {y[i]:R}, {z[i]:R}): expected {e:R}, got {output[i]:R}");
        }
    }

    private static float[] Evaluate(SimdWidth width, float[] x, bool exp)
    {
        int lanes = (int)width;
        var padded = new float[(x.Length + lanes - 1) / lanes * lanes];
        x.CopyTo(padded, 0);
        var output = new float[padded.Length];
        var kernel = new Transcendental(padded, output, exp);
        SimdDispatch.Run(width, ref kernel);
        return output[..x.Length];
    }

    private ref struct Binary(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> z, Span<float> output, string operation) : ISimdKernel
    {
        private readonly ReadOnlySpan<float> _x = x, _y = y, _z = z;
        private readonly Span<float> _output = output;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            for (int i = 0; i < _x.Length; i += TLanes.Count)
            {
                var a = TLanes.Load(in _x[i], 0);
                var b = TLanes.Load(in _y[i], 0);
                var c = TLanes.Load(in _z[i], 0);
                var r = operation switch
                {
                    "add" => TLanes.Add(a, b),
                    "subtract" => TLanes.Subtract(a, b),
                    "multiply" => TLanes.Multiply(a, b),
                    "divide" => TLanes.Divide(a, b),
                    "multiplyadd" => TLanes.MultiplyAdd(a, b, c),
                    "max" => TLanes.Max(a, b),
                    "min" => TLanes.Min(a, b),
                    "maxnative" => TLanes.MaxNative(a, b),
                    "minnative" => TLanes.MinNative(a, b),
                    "abs" => TLanes.Abs(a),
                    "negate" => TLanes.Negate(a),
                    "round" => TLanes.Round(a),
                    "copysign" => TLanes.CopySign(a, b),
                    "lessthan" => TLanes.Select(TLanes.LessThan(a, b), c, a),
                    "greaterthan" => TLanes.Select(TLanes.GreaterThan(a, b), c, a),
                    "greaterorequal" => TLanes.Select(TLanes.GreaterThanOrEqual(a, b), c, a),
                    "equal" => TLanes.Select(TLanes.Equal(a, b), c, a),
                    "scale" => TLanes.ScaleByPowerOfTwo(a, b),
                    _ => throw new ArgumentException(operation),
                };
                TLanes.Store(ref _output[i], 0, r);
            }
        }
    }

    private ref struct Horizontal(ReadOnlySpan<float> x, Span<float> sums, Span<float> maxima) : ISimdKernel
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _sums = sums, _maxima = maxima;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            for (int v = 0; v < _sums.Length; v++)
            {
                var a = TLanes.Load(in _x[v * TLanes.Count], 0);
                _sums[v] = TLanes.Sum(a);
                _maxima[v] = TLanes.MaxAcross(a);
            }
        }
    }

    private unsafe struct Partial(float* source, float* destination, int count) : ISimdKernel
    {
        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.StoreFirst(destination, TLanes.LoadFirst(source, count), count);
    }

    private ref struct Transcendental(ReadOnlySpan<float> x, Span<float> output, bool exp) : ISimdKernel
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _output = output;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            for (int i = 0; i < _x.Length; i += TLanes.Count)
            {
                var a = TLanes.Load(in _x[i], 0);
                TLanes.Store(ref _output[i], 0, exp ? VectorMath.Exp<TLanes, TVector>(a) : VectorMath.Sigmoid<TLanes, TVector>(a));
            }
        }
    }

    private struct CountLanes : ISimdKernel
    {
        public int Lanes;

        public void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged => Lanes = TLanes.Count;
    }
}
