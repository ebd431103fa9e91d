using System.Runtime.Intrinsics;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// An element-wise activation as an operator struct, so a kernel generic over it gets the activation inlined as its
/// epilogue (the pattern of TensorPrimitives' operators). Each width computes the same function.
/// </summary>
public interface IActivation
{
    /// <summary>Applies the activation to one value.</summary>
    float Invoke(float x);

    /// <summary>Applies the activation to 8 lanes.</summary>
    Vector256<float> Invoke(Vector256<float> x);

    /// <summary>Applies the activation to 16 lanes.</summary>
    Vector512<float> Invoke(Vector512<float> x);

    /// <summary>Applies the activation to the lanes of one vector of any width (<see cref="ILanes{TVector}"/>).</summary>
    TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged;
}

/// <summary>Identity (Keras <c>linear</c>).</summary>
public readonly struct IdentityActivation : IActivation
{
    /// <inheritdoc/>
    public float Invoke(float x) => x;
    /// <inheritdoc/>
    public Vector256<float> Invoke(Vector256<float> x) => x;
    /// <inheritdoc/>
    public Vector512<float> Invoke(Vector512<float> x) => x;
    /// <inheritdoc/>
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => x;
}

/// <summary><c>max(x, 0)</c>. NaN propagates.</summary>
public readonly struct ReluActivation : IActivation
{
    /// <inheritdoc/>
    public float Invoke(float x) => x < 0f ? 0f : x;
    /// <inheritdoc/>
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), Vector256<float>.Zero, x);
    /// <inheritdoc/>
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), Vector512<float>.Zero, x);
    /// <inheritdoc/>
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => TLanes.Select(TLanes.LessThan(x, TLanes.Zero), TLanes.Zero, x);
}

/// <summary><c>min(max(x, 0), MaxValue)</c>: Keras <c>ReLU(max_value)</c>, e.g. ReLU6. NaN propagates.</summary>
public readonly struct BoundedReluActivation(float maxValue) : IActivation
{
    /// <summary>The cap.</summary>
    public float MaxValue { get; } = maxValue;
    /// <inheritdoc/>
    public float Invoke(float x) => x < 0f ? 0f : x > MaxValue ? MaxValue : x;
    /// <inheritdoc/>
    public Vector256<float> Invoke(Vector256<float> x)
    {
        var max = Vector256.Create(MaxValue);
        x = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), Vector256<float>.Zero, x);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, max), max, x);
    }
    /// <inheritdoc/>
    public Vector512<float> Invoke(Vector512<float> x)
    {
        var max = Vector512.Create(MaxValue);
        x = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), Vector512<float>.Zero, x);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, max), max, x);
    }
    /// <inheritdoc/>
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
    public float Invoke(float x) => 1f / (1f + MathF.Exp(-x));
    /// <inheritdoc/>
    public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + VectorMath.Exp<Lanes256, Vector256<float>>(-x));
    /// <inheritdoc/>
    public Vector512<float> Invoke(Vector512<float> x) => VectorMath.Sigmoid<Lanes512, Vector512<float>>(x);
    /// <inheritdoc/>
    public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => VectorMath.Sigmoid<TLanes, TVector>(x);
}

/// <summary><c>x * sigmoid(x)</c> (Keras <c>swish</c>, PyTorch <c>SiLU</c>).</summary>
public readonly struct SwishActivation : IActivation
{
    /// <inheritdoc/>
    public float Invoke(float x) => x / (1f + MathF.Exp(-x));
    /// <inheritdoc/>
    public Vector256<float> Invoke(Vector256<float> x) => x / (Vector256<float>.One + VectorMath.Exp<Lanes256, Vector256<float>>(-x));
    /// <inheritdoc/>
    public Vector512<float> Invoke(Vector512<float> x) => x * VectorMath.Sigmoid<Lanes512, Vector512<float>>(x);
    /// <inheritdoc/>
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
    public float Invoke(float x) => MathF.Tanh(x);

    /// <inheritdoc/>
    public Vector256<float> Invoke(Vector256<float> x)
    {
        var y = Vector256.Abs(x);
        var e = Vector256.Exp(y * Vector256.Create(-2f));
        var large = (Vector256<float>.One - e) / (Vector256<float>.One + e);
        var y2 = y * y;
        var poly = Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.Create(C7), y2, Vector256.Create(C5)), y2, Vector256.Create(C3));
        var small = Vector256.FusedMultiplyAdd(y * y2, poly, y);
        return Vector256.CopySign(Vector256.ConditionalSelect(Vector256.LessThan(y, Vector256.Create(SmallThreshold)), small, large), x);
    }

    /// <inheritdoc/>
    public Vector512<float> Invoke(Vector512<float> x)
    {
        var y = Vector512.Abs(x);
        var e = Vector512.Exp(y * Vector512.Create(-2f));
        var large = (Vector512<float>.One - e) / (Vector512<float>.One + e);
        var y2 = y * y;
        var poly = Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(Vector512.Create(C7), y2, Vector512.Create(C5)), y2, Vector512.Create(C3));
        var small = Vector512.FusedMultiplyAdd(y * y2, poly, y);
        return Vector512.CopySign(Vector512.ConditionalSelect(Vector512.LessThan(y, Vector512.Create(SmallThreshold)), small, large), x);
    }

    /// <inheritdoc/>
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
