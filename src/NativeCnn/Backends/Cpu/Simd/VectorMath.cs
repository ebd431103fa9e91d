using System.Runtime.CompilerServices;

namespace NativeCnn.Backends.Cpu.Simd;

/// <summary>
/// <c>exp</c> and the logistic sigmoid in float arithmetic, written once over <see cref="ILanes{TVector}"/> for every
/// width. The runtime's <c>Vector256.Exp</c> widens to double; in EfficientNet, where every expand and depthwise
/// convolution ends in swish, that cost more than the convolutions.
/// </summary>
public static class VectorMath
{
    private const float ExpMax = 88.3762626647949f;
    private const float ExpMin = -87.3365447505531f;
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /// <summary>
    /// <c>exp(x)</c>, within 2 ulp: Cephes' <c>expf</c> (range reduction by <c>ln 2</c> in two parts, a degree-6
    /// polynomial, the power of two built in the exponent bits). Above 88.376 the result is +∞ (so <c>x / (1 + e)</c>
    /// goes to zero for huge <c>−x</c>), below −87.337 the smallest normal, and NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Exp<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        // x last in the one-instruction min/max, so that a NaN x comes through.
        var clamped = TLanes.MinNative(TLanes.Create(ExpMax), TLanes.MaxNative(TLanes.Create(ExpMin), x));
        var n = TLanes.Round(TLanes.Multiply(clamped, TLanes.Create(Log2E)));
        var r = TLanes.MultiplyAdd(n, TLanes.Create(-Ln2High), clamped);
        r = TLanes.MultiplyAdd(n, TLanes.Create(-Ln2Low), r);
        var p = TLanes.MultiplyAdd(TLanes.Create(P0), r, TLanes.Create(P1));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(P2));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(P3));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(P4));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(P5));
        p = TLanes.MultiplyAdd(p, TLanes.Multiply(r, r), TLanes.Add(r, TLanes.One));
        // n is in [-126, 127] after the clamp, so 2ⁿ is a normal float.
        var result = TLanes.ScaleByPowerOfTwo(p, n);
        return TLanes.Select(TLanes.GreaterThan(x, TLanes.Create(ExpMax)), TLanes.Create(float.PositiveInfinity), result);
    }

    // The sigmoid's minimax polynomial for exp on [-ln2/2, ln2/2] (XNNPACK's rr1-p5 coefficients).
    private const float SigmoidLog2E = 1.44269502162933350f, MinusLn2 = -0.693147182464599609f;
    private const float E1 = 0.999999701976776123f, E2 = 0.499991506338119507f, E3 = 0.166676521301269531f;
    private const float E4 = 0.0418978221714496613f, E5 = 0.00828929059207439423f;

    /// <summary>
    /// <c>1 / (1 + exp(−x))</c> within 3 ulp for x ≥ −20 (6 ulp down to −87: the one-constant range reduction loses
    /// accuracy as |x| grows), in about 16 instructions where <c>1 / (1 + Exp(−x))</c> takes about 26
    /// (swish after every EfficientNet convolution is the hottest elementwise op): <c>e = exp(−|x|)</c> never overflows,
    /// <c>σ(−|x|) = e / (1 + e)</c>, and <c>σ(x) = 1 − σ(−|x|)</c> for <c>x ≥ 0</c>. Below −87.337 the result is 0
    /// (instead of a denormal, whose arithmetic is slow); NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Sigmoid<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var negativeMagnitude = TLanes.Negate(TLanes.Abs(x));
        var z = TLanes.MaxNative(TLanes.Create(ExpMin), negativeMagnitude);
        var n = TLanes.Round(TLanes.Multiply(z, TLanes.Create(SigmoidLog2E)));
        var t = TLanes.MultiplyAdd(n, TLanes.Create(MinusLn2), z);
        var p = TLanes.MultiplyAdd(TLanes.Create(E5), t, TLanes.Create(E4));
        p = TLanes.MultiplyAdd(p, t, TLanes.Create(E3));
        p = TLanes.MultiplyAdd(p, t, TLanes.Create(E2));
        p = TLanes.MultiplyAdd(p, t, TLanes.Create(E1));
        p = TLanes.MultiplyAdd(p, t, TLanes.One);
        var e = TLanes.ScaleByPowerOfTwo(p, n);
        var f = TLanes.Divide(e, TLanes.Add(e, TLanes.One));
        // A comparison that is false for NaN, so that NaN stays NaN.
        f = TLanes.Select(TLanes.LessThan(negativeMagnitude, TLanes.Create(ExpMin)), TLanes.Zero, f);
        return TLanes.Select(TLanes.GreaterThanOrEqual(x, TLanes.Zero), TLanes.Subtract(TLanes.One, f), f);
    }

    /// <summary>
    /// <c>exp(x) − 1</c> without the cancellation of the subtraction near 0: below <c>|x| = 0.5</c> the Taylor polynomial to
    /// <c>x⁹</c> (truncation under 6e-10 relative), otherwise <see cref="Exp{TLanes, TVector}"/> minus 1 (its 2 ulp, at most
    /// a few ulp of the result there). NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Expm1<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var p = TLanes.Create(1f / 362880f);
        p = TLanes.MultiplyAdd(p, x, TLanes.Create(1f / 40320f));
        p = TLanes.MultiplyAdd(p, x, TLanes.Create(1f / 5040f));
        p = TLanes.MultiplyAdd(p, x, TLanes.Create(1f / 720f));
        p = TLanes.MultiplyAdd(p, x, TLanes.Create(1f / 120f));
        p = TLanes.MultiplyAdd(p, x, TLanes.Create(1f / 24f));
        p = TLanes.MultiplyAdd(p, x, TLanes.Create(1f / 6f));
        p = TLanes.MultiplyAdd(p, x, TLanes.Create(0.5f));
        var small = TLanes.MultiplyAdd(TLanes.Multiply(x, x), p, x);
        var large = TLanes.Subtract(Exp<TLanes, TVector>(x), TLanes.One);
        return TLanes.Select(TLanes.LessThan(TLanes.Abs(x), TLanes.Create(0.5f)), small, large);
    }
}
