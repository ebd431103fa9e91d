using System.Runtime.CompilerServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// The gradient of an element-wise activation as an operator struct (the backward twin of <see cref="IActivation"/>):
/// <c>dIn = dOut · f′</c>, with <c>f′</c> computed from the value the forward pass kept, its input <c>x</c> or, where
/// cheaper, its output <c>y</c> (each struct says which). At kinks each follows TensorFlow's gradient kernel.
/// </summary>
public interface IActivationGradient
{
    /// <summary>Whether <see cref="Invoke"/> reads the forward output <c>y</c> (true) or the forward input <c>x</c> (false).</summary>
    bool UsesOutput { get; }

    /// <summary>The input gradient of one vector: <paramref name="saved"/> is <c>x</c> or <c>y</c> (<see cref="UsesOutput"/>).</summary>
    TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged;
}

/// <summary>
/// ReLU from <c>y</c>: <c>dOut</c> where <c>y &gt; 0</c>, else 0 (TensorFlow's <c>ReluGrad</c>: 0 at <c>x = 0</c> and for NaN).
/// <c>y = max(x, 0) &gt; 0</c> exactly where <c>x &gt; 0</c>, so the output gives the same mask and the input need not be kept.
/// </summary>
public readonly struct ReluGradient : IActivationGradient
{
    /// <inheritdoc/>
    public bool UsesOutput => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.Select(TLanes.GreaterThan(saved, TLanes.Zero), outputGradient, TLanes.Zero);
}

/// <summary>
/// Bounded ReLU (<see cref="BoundedReluActivation"/>, e.g. ReLU6) from <c>y</c>: <c>dOut</c> where <c>0 &lt; y &lt; max</c>,
/// else 0 (TensorFlow's <c>Relu6Grad</c>: 0 at both kinks). <c>y = min(max(x, 0), max)</c> equals <c>x</c> inside the
/// open interval and is a kink outside it, so the output gives the same mask as the input.
/// </summary>
public readonly struct BoundedReluGradient(float maxValue) : IActivationGradient
{
    /// <summary>The cap.</summary>
    public float MaxValue { get; } = maxValue;

    /// <inheritdoc/>
    public bool UsesOutput => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var inside = TLanes.Select(TLanes.LessThan(saved, TLanes.Create(MaxValue)), outputGradient, TLanes.Zero);
        return TLanes.Select(TLanes.GreaterThan(saved, TLanes.Zero), inside, TLanes.Zero);
    }
}

/// <summary>Sigmoid from <c>y</c>: <c>dOut · y · (1 − y)</c> (TensorFlow's <c>SigmoidGrad</c>).</summary>
public readonly struct SigmoidGradient : IActivationGradient
{
    /// <inheritdoc/>
    public bool UsesOutput => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.Multiply(outputGradient, TLanes.Multiply(saved, TLanes.Subtract(TLanes.One, saved)));
}

/// <summary>Tanh from <c>y</c>: <c>dOut · (1 − y²)</c> (TensorFlow's <c>TanhGrad</c>).</summary>
public readonly struct TanhGradient : IActivationGradient
{
    /// <inheritdoc/>
    public bool UsesOutput => true;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.Multiply(outputGradient, TLanes.Subtract(TLanes.One, TLanes.Multiply(saved, saved)));
}

/// <summary>Swish/SiLU from <c>x</c>: <c>dOut · s · (1 + x · (1 − s))</c> with <c>s = sigmoid(x)</c>.</summary>
public readonly struct SwishGradient : IActivationGradient
{
    /// <inheritdoc/>
    public bool UsesOutput => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var s = VectorMath.Sigmoid<TLanes, TVector>(saved);
        var slope = TLanes.Multiply(s, TLanes.MultiplyAdd(saved, TLanes.Subtract(TLanes.One, s), TLanes.One));
        return TLanes.Multiply(outputGradient, slope);
    }
}

/// <summary>
/// Keras 3's <c>hard_sigmoid</c> (<c>relu6(x + 3) / 6</c>) from <c>x</c>: <c>dOut / 6</c> where <c>0 &lt; x + 3 &lt; 6</c>, else 0,
/// as TensorFlow differentiates the division and then <c>Relu6Grad</c> at <c>t = x + 3</c>.
/// </summary>
public readonly struct HardSigmoidGradient : IActivationGradient
{
    /// <inheritdoc/>
    public bool UsesOutput => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => Masked<TLanes, TVector>(TLanes.Add(saved, TLanes.Create(3f)), TLanes.Divide(outputGradient, TLanes.Create(6f)));

    /// <summary><paramref name="value"/> where <c>0 &lt; t &lt; 6</c>, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVector Masked<TLanes, TVector>(TVector t, TVector value) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var inside = TLanes.Select(TLanes.LessThan(t, TLanes.Create(6f)), value, TLanes.Zero);
        return TLanes.Select(TLanes.GreaterThan(t, TLanes.Zero), inside, TLanes.Zero);
    }
}

/// <summary>
/// Keras 3's <c>hard_silu</c>/hard swish (<c>x · hard_sigmoid(x)</c>) from <c>x</c>: <c>dOut · hard_sigmoid(x) + mask · (dOut · x) / 6</c>,
/// the product rule in TensorFlow's order (1 above 3, 0 below −3).
/// </summary>
public readonly struct HardSwishGradient : IActivationGradient
{
    /// <inheritdoc/>
    public bool UsesOutput => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var direct = TLanes.Multiply(outputGradient, default(HardSigmoidActivation).Invoke<TLanes, TVector>(saved));
        var throughSigmoid = HardSigmoidGradient.Masked<TLanes, TVector>(TLanes.Add(saved, TLanes.Create(3f)),
            TLanes.Divide(TLanes.Multiply(outputGradient, saved), TLanes.Create(6f)));
        return TLanes.Add(direct, throughSigmoid);
    }
}

/// <summary>Exact GELU from <c>x</c>: <c>dOut · (Φ(x) + x · φ(x))</c>, <c>Φ(x) = (1 + erf(x/√2)) / 2</c>, <c>φ(x) = exp(−x²/2) / √(2π)</c>.</summary>
/// <remarks>The forward pass has only the exact form (<see cref="GeluActivation"/>), so there is no tanh-approximation gradient.</remarks>
public readonly struct GeluGradient : IActivationGradient
{
    private const float InvSqrt2 = 0.707106781186547524f;
    private const float InvSqrt2Pi = 0.398942280401432678f;

    /// <inheritdoc/>
    public bool UsesOutput => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var half = TLanes.Create(0.5f);
        var cdf = TLanes.Multiply(half, TLanes.Add(TLanes.One, VectorMath.Erf<TLanes, TVector>(TLanes.Multiply(saved, TLanes.Create(InvSqrt2)))));
        var pdf = TLanes.Multiply(TLanes.Create(InvSqrt2Pi), VectorMath.Exp<TLanes, TVector>(TLanes.Multiply(TLanes.Negate(half), TLanes.Multiply(saved, saved))));
        return TLanes.Multiply(outputGradient, TLanes.MultiplyAdd(saved, pdf, cdf));
    }
}

/// <summary>
/// ELU from <c>x</c>: <c>dOut</c> for <c>x &gt; 0</c>, else <c>dOut · alpha · exp(x)</c> (Keras 3 on TensorFlow: <c>EluGrad</c>
/// under <c>where(x &gt; 0, elu, alpha · elu)</c>, so <c>alpha</c> at <c>x = 0</c>).
/// </summary>
public readonly struct EluGradient(float alpha) : IActivationGradient
{
    /// <summary>The scale of the negative part.</summary>
    public float Alpha { get; } = alpha;

    /// <inheritdoc/>
    public bool UsesOutput => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var negative = TLanes.Multiply(outputGradient, TLanes.Multiply(TLanes.Create(Alpha), VectorMath.Exp<TLanes, TVector>(TLanes.MinNative(saved, TLanes.Zero))));
        return TLanes.Select(TLanes.GreaterThan(saved, TLanes.Zero), outputGradient, negative);
    }
}

/// <summary>SELU from <c>x</c>: <c>dOut · λα · exp(x)</c> for <c>x &lt; 0</c>, else <c>dOut · λ</c> (TensorFlow's <c>SeluGrad</c>: λ at 0).</summary>
public readonly struct SeluGradient : IActivationGradient
{
    private const float Scale = 1.0507009873554804934193349852946f;
    private const float ScaleAlpha = 1.7580993408473768599402175208123f;

    /// <inheritdoc/>
    public bool UsesOutput => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var negative = TLanes.Multiply(TLanes.Create(ScaleAlpha), VectorMath.Exp<TLanes, TVector>(TLanes.MinNative(saved, TLanes.Zero)));
        return TLanes.Multiply(outputGradient, TLanes.Select(TLanes.LessThan(saved, TLanes.Zero), negative, TLanes.Create(Scale)));
    }
}

/// <summary>Softplus from <c>x</c>: <c>dOut · sigmoid(x)</c> (TensorFlow's <c>SoftplusGrad</c>).</summary>
public readonly struct SoftplusGradient : IActivationGradient
{
    /// <inheritdoc/>
    public bool UsesOutput => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.Multiply(outputGradient, VectorMath.Sigmoid<TLanes, TVector>(saved));
}

/// <summary>Leaky ReLU from <c>x</c>: <c>dOut</c> for <c>x &gt; 0</c>, else <c>dOut · slope</c> (TensorFlow's <c>LeakyReluGrad</c>: the slope at 0).</summary>
public readonly struct LeakyReluGradient(float negativeSlope) : IActivationGradient
{
    /// <summary>The slope below zero.</summary>
    public float NegativeSlope { get; } = negativeSlope;

    /// <inheritdoc/>
    public bool UsesOutput => false;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TVector Invoke<TLanes, TVector>(TVector saved, TVector outputGradient) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.Select(TLanes.GreaterThan(saved, TLanes.Zero), outputGradient, TLanes.Multiply(outputGradient, TLanes.Create(NegativeSlope)));
}
