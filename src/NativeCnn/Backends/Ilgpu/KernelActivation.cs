namespace NativeCnn.Backends.Ilgpu;

/// <summary>
/// An element-wise activation as a struct type argument of an ILGPU kernel, so each fused epilogue is its own compiled
/// specialization with no run-time switch (the pattern of the CPU kernels' <c>IActivation</c>). The CPU structs work on
/// <c>TLanes</c>/<c>TVector</c> SIMD operators, which ILGPU cannot compile, so these are their scalar twins: the same
/// formulas, each step rounded to float. The <c>parameter</c> carries the one number some activations take.
/// </summary>
internal interface IKernelActivation
{
    /// <summary>Applies the activation; <paramref name="parameter"/> is <see cref="KernelActivations.Parameter"/>.</summary>
    float Apply(float x, float parameter);
}

internal readonly struct LinearKernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter) => x;
}

internal readonly struct ReluKernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter) => x < 0f ? 0f : x;
}

/// <summary><c>min(max(x, 0), cap)</c>; the parameter is the cap (Keras <c>ReLU(max_value)</c>).</summary>
internal readonly struct BoundedReluKernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter)
    {
        float y = x < 0f ? 0f : x;
        return y > parameter ? parameter : y;
    }
}

internal readonly struct SigmoidKernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter) => KernelMath.Sigmoid(x);
}

internal readonly struct SwishKernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter) => x * KernelMath.Sigmoid(x);
}

internal readonly struct TanhKernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter) => KernelMath.Tanh(x);
}

internal readonly struct HardSwishKernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter) => x * KernelMath.HardSigmoid(x);
}

/// <summary>The parameter is the negative slope.</summary>
internal readonly struct LeakyReluKernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter) => x < 0f ? x * parameter : x;
}

/// <summary>The parameter is alpha, the scale of the negative part.</summary>
internal readonly struct EluKernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter) => x < 0f ? parameter * (MathF.Exp(x) - 1f) : x;
}

internal readonly struct SeluKernelActivation : IKernelActivation
{
    // TensorFlow's Selu constants rounded to float, as SeluActivation.
    private const float Scale = 1.0507009873554804934193349852946f;
    private const float ScaleAlpha = 1.7580993408473768599402175208123f;

    public float Apply(float x, float parameter) => x < 0f ? ScaleAlpha * (MathF.Exp(x) - 1f) : Scale * x;
}

internal readonly struct HardSigmoidKernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter) => KernelMath.HardSigmoid(x);
}

/// <summary>Keras 2's <c>clip(0.2·x + 0.5, 0, 1)</c>.</summary>
internal readonly struct HardSigmoidKeras2KernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter)
    {
        float t = x * 0.2f + 0.5f;
        t = t < 0f ? 0f : t;
        return t > 1f ? 1f : t;
    }
}

internal readonly struct GeluKernelActivation : IKernelActivation
{
    public float Apply(float x, float parameter) => 0.5f * x * (1f + KernelMath.Erf(x * 0.70710678118654752f));
}

/// <summary>TensorFlow's thresholds, as <c>SoftplusActivation</c>.</summary>
internal readonly struct SoftplusKernelActivation : IKernelActivation
{
    private const float Threshold = -13.9423847f;

    public float Apply(float x, float parameter)
    {
        if (x > -Threshold) return x;
        if (x < Threshold) return MathF.Exp(x);
        return (x > 0f ? x : 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x)));
    }
}

/// <summary>Scalar math the kernels share; only <see cref="MathF"/> functions ILGPU maps to device intrinsics.</summary>
internal static class KernelMath
{
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>
    /// <c>sign(x) · (1 − e) / (1 + e)</c> with <c>e = exp(−2|x|)</c>, which never overflows; the Taylor polynomial below
    /// |x| = 0.125 where <c>1 − e</c> cancels (the CPU's <c>TanhActivation</c>).
    /// </summary>
    public static float Tanh(float x)
    {
        float y = MathF.Abs(x);
        float result;
        if (y < 0.125f)
        {
            float y2 = y * y;
            result = y + y * y2 * ((-17f / 315f * y2 + 2f / 15f) * y2 - 1f / 3f);
        }
        else
        {
            float e = MathF.Exp(-2f * y);
            result = (1f - e) / (1f + e);
        }
        return x < 0f ? -result : result;
    }

    /// <summary>Keras 3's <c>relu6(x + 3) / 6</c>.</summary>
    public static float HardSigmoid(float x)
    {
        float t = x + 3f;
        t = t < 0f ? 0f : t;
        t = t > 6f ? 6f : t;
        return t / 6f;
    }

    /// <summary>
    /// erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7, under float rounding of the GELU product),
    /// because ILGPU maps no erf intrinsic.
    /// </summary>
    public static float Erf(float x)
    {
        float a = MathF.Abs(x);
        float t = 1f / (1f + 0.3275911f * a);
        float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
        float y = 1f - poly * MathF.Exp(-a * a);
        return x < 0f ? -y : y;
    }
}

/// <summary>Picks a kernel specialization for an <see cref="ActivationFunction"/>.</summary>
/// <typeparam name="TResult">What the selector makes of the activation struct (a kernel, a loaded launcher).</typeparam>
internal interface IActivationSelector<out TResult>
{
    TResult Select<TActivation>() where TActivation : struct, IKernelActivation;
}

/// <summary>Maps <see cref="ActivationFunction"/> values to the kernel activation structs.</summary>
internal static class KernelActivations
{
    /// <summary>One activation per struct, so that enumerating these enumerates every kernel specialization.</summary>
    public static IReadOnlyList<ActivationFunction> Representatives { get; } =
    [
        ActivationFunction.Linear, ActivationFunction.Relu, ActivationFunction.Relu6, ActivationFunction.Sigmoid,
        ActivationFunction.Swish, ActivationFunction.Tanh, ActivationFunction.HardSwish, ActivationFunction.LeakyRelu(),
        ActivationFunction.Elu(), ActivationFunction.Selu, ActivationFunction.HardSigmoid, ActivationFunction.HardSigmoidKeras2,
        ActivationFunction.Gelu, ActivationFunction.Softplus,
    ];

    /// <summary>The number <see cref="IKernelActivation.Apply"/> takes: the ReLU cap, or the slope/alpha.</summary>
    public static float Parameter(ActivationFunction activation) => activation.Kind switch
    {
        ActivationKind.Relu => activation.MaxValue,
        ActivationKind.LeakyRelu or ActivationKind.Elu => activation.Alpha,
        _ => 0f,
    };

    /// <summary>Calls <paramref name="selector"/> with the struct of <paramref name="activation"/>.</summary>
    /// <exception cref="NotSupportedException">Softmax, which is not element-wise.</exception>
    public static TResult Select<TResult>(ActivationFunction activation, IActivationSelector<TResult> selector) => activation.Kind switch
    {
        ActivationKind.Linear => selector.Select<LinearKernelActivation>(),
        ActivationKind.Relu when float.IsPositiveInfinity(activation.MaxValue) => selector.Select<ReluKernelActivation>(),
        ActivationKind.Relu => selector.Select<BoundedReluKernelActivation>(),
        ActivationKind.Sigmoid => selector.Select<SigmoidKernelActivation>(),
        ActivationKind.Swish => selector.Select<SwishKernelActivation>(),
        ActivationKind.Tanh => selector.Select<TanhKernelActivation>(),
        ActivationKind.HardSwish => selector.Select<HardSwishKernelActivation>(),
        ActivationKind.LeakyRelu => selector.Select<LeakyReluKernelActivation>(),
        ActivationKind.Elu => selector.Select<EluKernelActivation>(),
        ActivationKind.Selu => selector.Select<SeluKernelActivation>(),
        ActivationKind.HardSigmoid when activation.IsKeras2HardSigmoid => selector.Select<HardSigmoidKeras2KernelActivation>(),
        ActivationKind.HardSigmoid => selector.Select<HardSigmoidKernelActivation>(),
        ActivationKind.Gelu => selector.Select<GeluKernelActivation>(),
        ActivationKind.Softplus => selector.Select<SoftplusKernelActivation>(),
        _ => throw new NotSupportedException($"{activation} is not element-wise."),
    };
}
