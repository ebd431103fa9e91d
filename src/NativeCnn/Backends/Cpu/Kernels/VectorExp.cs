using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// <c>exp(x)</c> in float arithmetic for sigmoid and swish: Cephes' <c>expf</c> (range reduction by <c>ln 2</c> in two
/// parts, a degree-6 polynomial, the power of two built in the exponent bits), within 2 ulp. <c>Vector512.Exp</c> widens
/// to double, and in EfficientNet, where every expand and depthwise conv ends in swish, that cost more than the convs.
/// Above <see cref="Max"/> the result is +∞ (so <c>x / (1 + e)</c> goes to zero for huge <c>−x</c>), below
/// <see cref="Min"/> it is the smallest normal, and NaN stays NaN.
/// </summary>
internal static class VectorExp
{
    private const float Max = 88.3762626647949f;
    private const float Min = -87.3365447505531f;
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var clamped = Vector512.Min(Vector512.Max(x, Vector512.Create(Min)), Vector512.Create(Max));
        var n = Vector512.Round(clamped * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2High), clamped);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Low), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        // n is in [-126, 127] after the clamp, so n + 127 is a valid biased exponent.
        var scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(Max)), Vector512.Create(float.PositiveInfinity), p * scale);
    }

    // The AVX-512 sigmoid's minimax polynomial for exp on [-ln2/2, ln2/2] (XNNPACK's rr1-p5 coefficients).
    private const float Log2EFloat = 1.44269502162933350f, MinusLn2 = -0.693147182464599609f;
    private const float E1 = 0.999999701976776123f, E2 = 0.499991506338119507f, E3 = 0.166676521301269531f;
    private const float E4 = 0.0418978221714496613f, E5 = 0.00828929059207439423f;

    /// <summary>
    /// <c>1 / (1 + exp(−x))</c> with AVX-512's <c>vscalefps</c>, in 16 instructions where <c>1 / (1 + Exp(−x))</c> takes
    /// about 26 (swish after every EfficientNet convolution is the hottest elementwise op): <c>e = exp(−|x|)</c> never
    /// overflows, <c>σ(−|x|) = e / (1 + e)</c>, and <c>σ(x) = 1 − σ(−|x|)</c> for <c>x ≥ 0</c>. Below
    /// <see cref="Min"/> the result is 0 (instead of a float denormal, whose arithmetic is slow): within 3 ulp elsewhere.
    /// Needs <see cref="Avx512F"/> (as every <see cref="Vector512"/>-accelerated machine has).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x)
    {
        var negativeMagnitude = (x.AsUInt32() | Vector512.Create(0x80000000u)).AsSingle();
        var z = Vector512.Max(negativeMagnitude, Vector512.Create(Min));
        var n = Avx512F.RoundScale(z * Vector512.Create(Log2EFloat), 0);
        var t = Vector512.FusedMultiplyAdd(n, Vector512.Create(MinusLn2), z);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(E5), t, Vector512.Create(E4));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(E3));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(E2));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(E1));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512<float>.One);
        var e = Avx512F.Scale(p, n);
        var f = e / (e + Vector512<float>.One);
        f = Vector512.ConditionalSelect(Vector512.Equals(z, negativeMagnitude), f, Vector512<float>.Zero);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.One - f, f);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var clamped = Vector256.Min(Vector256.Max(x, Vector256.Create(Min)), Vector256.Create(Max));
        var n = Vector256.Round(clamped * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2High), clamped);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Low), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Max)), Vector256.Create(float.PositiveInfinity), p * scale);
    }
}
