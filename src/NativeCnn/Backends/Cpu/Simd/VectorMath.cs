using System.Runtime.CompilerServices;

namespace NativeCnn.Backends.Cpu.Simd;

/// <summary>
/// <c>exp</c>, the logistic sigmoid, <c>expm1</c>, <c>erf</c> and <c>log1p</c> in float arithmetic, written once over <see cref="ILanes{TVector}"/> for every
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
        var p = Horner<TLanes, TVector>(r, P0, P1, P2, P3, P4, P5);
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
        var p = Horner<TLanes, TVector>(t, E5, E4, E3, E2, E1, 1f);
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
        var p = Horner<TLanes, TVector>(x, 1f / 362880f, 1f / 40320f, 1f / 5040f, 1f / 720f, 1f / 120f, 1f / 24f, 1f / 6f,
            0.5f);
        var small = TLanes.MultiplyAdd(TLanes.Multiply(x, x), p, x);
        var large = TLanes.Subtract(Exp<TLanes, TVector>(x), TLanes.One);
        return TLanes.Select(TLanes.LessThan(TLanes.Abs(x), TLanes.Create(0.5f)), small, large);
    }

    // Eigen's float erf (also XLA's): an odd degree-13 over an even degree-8 polynomial on [-4, 4].
    private const float ErfA1 = -1.60960333262415e-02f, ErfA3 = -2.95459980854025e-03f, ErfA5 = -7.34990630326855e-04f;
    private const float ErfA7 = -5.69250639462346e-05f, ErfA9 = -2.10102402082508e-06f, ErfA11 = 2.77068142495902e-08f;
    private const float ErfA13 = -2.72614225801306e-10f;
    private const float ErfB0 = -1.42647390514189e-02f, ErfB2 = -7.37332916720468e-03f, ErfB4 = -1.68282697438203e-03f;
    private const float ErfB6 = -2.13374055278905e-04f, ErfB8 = -1.45660718464996e-05f;

    /// <summary>
    /// The error function as TensorFlow's CPU kernels compute it in float (Eigen's rational approximation, within a few
    /// ulp): <c>x · P(x²) / Q(x²)</c> on <c>x</c> clamped to [−4, 4], where erf is ±1 in float; the result is clamped to
    /// [−1, 1]. NaN stays NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Erf<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var clamped = TLanes.MinNative(TLanes.Create(4f), TLanes.MaxNative(TLanes.Create(-4f), x));
        var x2 = TLanes.Multiply(clamped, clamped);
        var p = TLanes.MultiplyAdd(x2, TLanes.Create(ErfA13), TLanes.Create(ErfA11));
        p = TLanes.MultiplyAdd(x2, p, TLanes.Create(ErfA9));
        p = TLanes.MultiplyAdd(x2, p, TLanes.Create(ErfA7));
        p = TLanes.MultiplyAdd(x2, p, TLanes.Create(ErfA5));
        p = TLanes.MultiplyAdd(x2, p, TLanes.Create(ErfA3));
        p = TLanes.MultiplyAdd(x2, p, TLanes.Create(ErfA1));
        var q = TLanes.MultiplyAdd(x2, TLanes.Create(ErfB8), TLanes.Create(ErfB6));
        q = TLanes.MultiplyAdd(x2, q, TLanes.Create(ErfB4));
        q = TLanes.MultiplyAdd(x2, q, TLanes.Create(ErfB2));
        q = TLanes.MultiplyAdd(x2, q, TLanes.Create(ErfB0));
        var erf = TLanes.Divide(TLanes.Multiply(clamped, p), q);
        return TLanes.MinNative(TLanes.One, TLanes.MaxNative(TLanes.Create(-1f), erf));
    }

    /// <summary>
    /// <c>log(1 + t)</c> for <c>t</c> in [0, 1] (what softplus needs), within 2 ulp: <c>2·atanh(u)</c> with
    /// <c>u = t / (2 + t)</c> in [0, 1/3], its odd series to <c>u¹⁵</c> (truncation under 3e-9 relative). Accurate for tiny
    /// <c>t</c>, where <c>log(1 + t)</c> would round <c>1 + t</c> away.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Log1pUnit<TLanes, TVector>(TVector t) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var u = TLanes.Divide(t, TLanes.Add(TLanes.Create(2f), t));
        var u2 = TLanes.Multiply(u, u);
        var s = Horner<TLanes, TVector>(u2, 1f / 15f, 1f / 13f, 1f / 11f, 1f / 9f, 1f / 7f, 1f / 5f, 1f / 3f);
        var twoU = TLanes.Add(u, u);
        return TLanes.MultiplyAdd(TLanes.Multiply(twoU, u2), s, twoU);
    }

    // Horner's rule from the highest coefficient down, one fused multiply-add per step: ((c5·x + c4)·x + …)·x + c0.
    // Fixed arities rather than a span of coefficients, so that every step stays a register operation after inlining;
    // each higher arity is one more step around the next lower one, which keeps the operation order of writing it out.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Horner<TLanes, TVector>(TVector x, float c5, float c4, float c3, float c2, float c1, float c0)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var p = TLanes.MultiplyAdd(TLanes.Create(c5), x, TLanes.Create(c4));
        p = TLanes.MultiplyAdd(p, x, TLanes.Create(c3));
        p = TLanes.MultiplyAdd(p, x, TLanes.Create(c2));
        p = TLanes.MultiplyAdd(p, x, TLanes.Create(c1));
        return TLanes.MultiplyAdd(p, x, TLanes.Create(c0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Horner<TLanes, TVector>(TVector x, float c6, float c5, float c4, float c3, float c2, float c1, float c0)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.MultiplyAdd(Horner<TLanes, TVector>(x, c6, c5, c4, c3, c2, c1), x, TLanes.Create(c0));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Horner<TLanes, TVector>(TVector x, float c7, float c6, float c5, float c4, float c3, float c2, float c1,
        float c0) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.MultiplyAdd(Horner<TLanes, TVector>(x, c7, c6, c5, c4, c3, c2, c1), x, TLanes.Create(c0));
}
