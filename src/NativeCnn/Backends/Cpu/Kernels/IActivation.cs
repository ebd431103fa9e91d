using System.Runtime.Intrinsics;

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
}

/// <summary><c>1 / (1 + exp(-x))</c>.</summary>
public readonly struct SigmoidActivation : IActivation
{
    /// <inheritdoc/>
    public float Invoke(float x) => 1f / (1f + MathF.Exp(-x));
    /// <inheritdoc/>
    public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-x));
    /// <inheritdoc/>
    public Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-x));
}

/// <summary><c>x * sigmoid(x)</c> (Keras <c>swish</c>, PyTorch <c>SiLU</c>).</summary>
public readonly struct SwishActivation : IActivation
{
    /// <inheritdoc/>
    public float Invoke(float x) => x / (1f + MathF.Exp(-x));
    /// <inheritdoc/>
    public Vector256<float> Invoke(Vector256<float> x) => x / (Vector256<float>.One + Vector256.Exp(-x));
    /// <inheritdoc/>
    public Vector512<float> Invoke(Vector512<float> x) => x / (Vector512<float>.One + Vector512.Exp(-x));
}

/// <summary>Hyperbolic tangent, as <c>1 - 2 / (exp(2x) + 1)</c> in the vector paths.</summary>
public readonly struct TanhActivation : IActivation
{
    /// <inheritdoc/>
    public float Invoke(float x) => MathF.Tanh(x);
    /// <inheritdoc/>
    public Vector256<float> Invoke(Vector256<float> x) =>
        Vector256<float>.One - Vector256.Create(2f) / (Vector256.Exp(x + x) + Vector256<float>.One);
    /// <inheritdoc/>
    public Vector512<float> Invoke(Vector512<float> x) =>
        Vector512<float>.One - Vector512.Create(2f) / (Vector512.Exp(x + x) + Vector512<float>.One);
}
