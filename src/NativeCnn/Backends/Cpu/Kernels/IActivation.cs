using System.Runtime.CompilerServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// An element-wise activation as an operator struct, so a kernel generic over it gets the activation inlined as its
/// epilogue (the pattern of TensorPrimitives' operators). Each width computes the same function.
/// </summary>
public interface IActivation
{
    /// <summary>Applies the activation to the lanes of one vector of any width (<see cref="ILanes{TVector}"/>).</summary>
    TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged;
}

/// <summary>Identity (Keras <c>linear</c>).</summary>
public readonly struct IdentityActivation : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => x;
}

/// <summary><c>max(x, 0)</c>. NaN propagates.</summary>
public readonly struct ReluActivation : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.Select(TLanes.LessThan(x, TLanes.Zero), TLanes.Zero, x);
}

/// <summary><c>min(max(x, 0), MaxValue)</c>: Keras <c>ReLU(max_value)</c>, e.g. ReLU6. NaN propagates.</summary>
public readonly struct BoundedReluActivation(float maxValue) : IActivation
{
    /// <summary>The cap.</summary>
    public float MaxValue { get; } = maxValue;
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var max = TLanes.Create(MaxValue);
        x = TLanes.Select(TLanes.LessThan(x, TLanes.Zero), TLanes.Zero, x);
        return TLanes.Select(TLanes.GreaterThan(x, max), max, x);
    }
}

/// <summary><c>1 / (1 + exp(-x))</c>.</summary>
public readonly struct SigmoidActivation : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => VectorMath.Sigmoid<TLanes, TVector>(x);
}

/// <summary><c>x * sigmoid(x)</c> (Keras <c>swish</c>, PyTorch <c>SiLU</c>).</summary>
public readonly struct SwishActivation : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.Multiply(x, VectorMath.Sigmoid<TLanes, TVector>(x));
}

/// <summary>
/// Hyperbolic tangent. The vector paths compute <c>sign(x) · (1 − e) / (1 + e)</c> with <c>e = exp(−2|x|)</c>, which never
/// overflows and keeps −0; below <c>|x| = 0.125</c>, where <c>1 − e</c> cancels, they use the Taylor polynomial to
/// <c>x⁷</c> instead (truncation error under 2e-9 relative there).
/// </summary>
public readonly struct TanhActivation : IActivation
{
    private const float SmallThreshold = 0.125f;
    private const float C3 = -1f / 3f;
    private const float C5 = 2f / 15f;
    private const float C7 = -17f / 315f;


    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var y = TLanes.Abs(x);
        var e = VectorMath.Exp<TLanes, TVector>(TLanes.Multiply(y, TLanes.Create(-2f)));
        var large = TLanes.Divide(TLanes.Subtract(TLanes.One, e), TLanes.Add(TLanes.One, e));
        var y2 = TLanes.Multiply(y, y);
        var poly = TLanes.MultiplyAdd(TLanes.MultiplyAdd(TLanes.Create(C7), y2, TLanes.Create(C5)), y2, TLanes.Create(C3));
        var small = TLanes.MultiplyAdd(TLanes.Multiply(y, y2), poly, y);
        return TLanes.CopySign(TLanes.Select(TLanes.LessThan(y, TLanes.Create(SmallThreshold)), small, large), x);
    }
}

/// <summary>
/// <c>x · (relu6(x + 3) / 6)</c>: Keras 3's <c>hard_silu</c> as TensorFlow computes it (the sum, the clamp, a true
/// division by 6, then the product, each rounded). NaN propagates.
/// </summary>
public readonly struct HardSwishActivation : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.Multiply(x, default(HardSigmoidActivation).Invoke<TLanes, TVector>(x));
}

/// <summary><c>x</c> for <c>x ≥ 0</c>, else <c>x · slope</c> (TensorFlow's <c>LeakyRelu</c> kernel). NaN propagates.</summary>
public readonly struct LeakyReluActivation(float negativeSlope) : IActivation
{
    /// <summary>The slope below zero.</summary>
    public float NegativeSlope { get; } = negativeSlope;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.Select(TLanes.LessThan(x, TLanes.Zero), TLanes.Multiply(x, TLanes.Create(NegativeSlope)), x);
}

/// <summary><c>x</c> for <c>x ≥ 0</c>, else <c>alpha · expm1(x)</c> (TensorFlow's <c>Elu</c>, scaled as Keras 3 scales it). NaN propagates.</summary>
public readonly struct EluActivation(float alpha) : IActivation
{
    /// <summary>The scale of the negative part.</summary>
    public float Alpha { get; } = alpha;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var negative = VectorMath.Expm1<TLanes, TVector>(TLanes.MinNative(x, TLanes.Zero));
        if (Alpha != 1f) negative = TLanes.Multiply(negative, TLanes.Create(Alpha));
        return TLanes.Select(TLanes.LessThan(x, TLanes.Zero), negative, x);
    }
}

/// <summary>
/// Keras's <c>selu</c> as TensorFlow's <c>Selu</c> kernel computes it: <c>λ·x</c> for <c>x ≥ 0</c>, else <c>λα · expm1(x)</c>, with
/// λ = 1.0507009873554804934 and λα = 1.7580993408473768599 rounded to float. NaN propagates.
/// </summary>
public readonly struct SeluActivation : IActivation
{
    private const float Scale = 1.0507009873554804934193349852946f;
    private const float ScaleAlpha = 1.7580993408473768599402175208123f;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var negative = TLanes.Multiply(VectorMath.Expm1<TLanes, TVector>(TLanes.MinNative(x, TLanes.Zero)), TLanes.Create(ScaleAlpha));
        return TLanes.Select(TLanes.LessThan(x, TLanes.Zero), negative, TLanes.Multiply(x, TLanes.Create(Scale)));
    }
}

/// <summary>Keras 3's <c>hard_sigmoid</c> as TensorFlow computes it: <c>relu6(x + 3) / 6</c> (the sum, the clamp, a true division). NaN propagates.</summary>
public readonly struct HardSigmoidActivation : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var six = TLanes.Create(6f);
        var t = TLanes.Add(x, TLanes.Create(3f));
        t = TLanes.Select(TLanes.LessThan(t, TLanes.Zero), TLanes.Zero, t);
        t = TLanes.Select(TLanes.GreaterThan(t, six), six, t);
        return TLanes.Divide(t, six);
    }
}

/// <summary>Keras 2's and TensorFlow.js's <c>hard_sigmoid</c>: <c>clip(0.2·x + 0.5, 0, 1)</c>, the product and the sum each rounded. NaN propagates.</summary>
public readonly struct HardSigmoidKeras2Activation : IActivation
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var t = TLanes.Add(TLanes.Multiply(x, TLanes.Create(0.2f)), TLanes.Create(0.5f));
        t = TLanes.Select(TLanes.LessThan(t, TLanes.Zero), TLanes.Zero, t);
        return TLanes.Select(TLanes.GreaterThan(t, TLanes.One), TLanes.One, t);
    }
}

/// <summary>
/// Keras's <c>gelu</c> (exact form) as TensorFlow computes it: <c>0.5·x·(1 + erf(x / √2))</c>, with
/// <see cref="VectorMath.Erf{TLanes, TVector}"/>. Like TensorFlow's, the result for large negative <c>x</c> is the
/// rounded <c>1 + erf</c>, so absolute (not relative) accuracy there. NaN propagates.
/// </summary>
public readonly struct GeluActivation : IActivation
{
    private const float Sqrt2 = 1.41421356237309515f;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var erf = VectorMath.Erf<TLanes, TVector>(TLanes.Divide(x, TLanes.Create(Sqrt2)));
        return TLanes.Multiply(TLanes.Multiply(TLanes.Create(0.5f), x), TLanes.Add(TLanes.One, erf));
    }
}

/// <summary>
/// <c>softplus</c> with TensorFlow's thresholds: <c>x</c> above <c>−log(ε) − 2</c> (13.94), <c>exp(x)</c> below its negative,
/// else <c>max(x, 0) + log1p(exp(−|x|))</c>, which equals <c>log1p(exp(x))</c> without overflow. NaN propagates.
/// </summary>
public readonly struct SoftplusActivation : IActivation
{
    // log(float epsilon) + 2, TensorFlow's threshold.
    private const float Threshold = -13.9423847f;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var e = VectorMath.Exp<TLanes, TVector>(TLanes.Negate(TLanes.Abs(x)));
        var middle = TLanes.Add(TLanes.Select(TLanes.GreaterThan(x, TLanes.Zero), x, TLanes.Zero), VectorMath.Log1pUnit<TLanes, TVector>(e));
        var small = VectorMath.Exp<TLanes, TVector>(x);
        var result = TLanes.Select(TLanes.LessThan(x, TLanes.Create(Threshold)), small, middle);
        return TLanes.Select(TLanes.GreaterThan(x, TLanes.Create(-Threshold)), x, result);
    }
}
