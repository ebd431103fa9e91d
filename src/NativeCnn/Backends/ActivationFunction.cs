namespace NativeCnn.Backends;

/// <summary>The activation functions a layer can apply, by Keras name.</summary>
public enum ActivationKind
{
    /// <summary><c>linear</c>: identity.</summary>
    Linear,
    /// <summary><c>relu</c>: <c>max(x, 0)</c>, optionally capped at <see cref="ActivationFunction.MaxValue"/>.</summary>
    Relu,
    /// <summary><c>sigmoid</c>: <c>1 / (1 + exp(-x))</c>.</summary>
    Sigmoid,
    /// <summary><c>swish</c> (also <c>silu</c>): <c>x * sigmoid(x)</c>.</summary>
    Swish,
    /// <summary><c>tanh</c>.</summary>
    Tanh,
    /// <summary><c>softmax</c> over the last axis; not element-wise, so only Dense and ActivationFunction layers take it.</summary>
    Softmax,
    /// <summary><c>hard_silu</c> (also <c>hard_swish</c>, Keras 3): <c>x · relu6(x + 3) / 6</c>.</summary>
    HardSwish,
    /// <summary><c>leaky_relu</c>: <c>x</c> for <c>x &gt; 0</c>, else <c>x · </c><see cref="ActivationFunction.Alpha"/> (the negative slope).</summary>
    LeakyRelu,
    /// <summary><c>elu</c>: <c>x</c> for <c>x &gt; 0</c>, else <see cref="ActivationFunction.Alpha"/><c> · (exp(x) − 1)</c>.</summary>
    Elu,
    /// <summary><c>selu</c>: <c>λ·x</c> for <c>x &gt; 0</c>, else <c>λα · (exp(x) − 1)</c>, with Keras's λ ≈ 1.0507 and α ≈ 1.6733.</summary>
    Selu,
    /// <summary>
    /// <c>hard_sigmoid</c>: a clamped line. Keras 3 computes <c>relu6(x + 3) / 6</c> (<see cref="ActivationFunction.Alpha"/> = 1/6);
    /// Keras 2 and TensorFlow.js <c>clip(0.2·x + 0.5, 0, 1)</c> (<see cref="ActivationFunction.Alpha"/> = 0.2).
    /// </summary>
    HardSigmoid,
    /// <summary><c>gelu</c> (Keras's default, exact form): <c>0.5·x·(1 + erf(x / √2))</c>.</summary>
    Gelu,
    /// <summary><c>softplus</c>: <c>log(1 + exp(x))</c>, without overflow.</summary>
    Softplus,
}

/// <summary>An activation with its arguments, e.g. Keras <c>ReLU(max_value=6.0)</c>.</summary>
/// <param name="Kind">The function.</param>
/// <param name="MaxValue">For <see cref="ActivationKind.Relu"/>, the cap (positive infinity for none).</param>
/// <param name="Alpha">For <see cref="ActivationKind.LeakyRelu"/>, the negative slope; for <see cref="ActivationKind.Elu"/>, the scale
/// of the negative part; for <see cref="ActivationKind.HardSigmoid"/>, the slope that names its Keras form (1/6 or 0.2); otherwise 0.</param>
public readonly record struct ActivationFunction(ActivationKind Kind, float MaxValue = float.PositiveInfinity, float Alpha = 0f)
{
    /// <summary>Identity.</summary>
    public static ActivationFunction Linear => new(ActivationKind.Linear);
    /// <summary><c>max(x, 0)</c>.</summary>
    public static ActivationFunction Relu => new(ActivationKind.Relu);
    /// <summary><c>min(max(x, 0), 6)</c>, Keras <c>ReLU(6.0)</c> as MobileNetV2 uses it.</summary>
    public static ActivationFunction Relu6 => new(ActivationKind.Relu, 6f);
    /// <summary>Logistic sigmoid.</summary>
    public static ActivationFunction Sigmoid => new(ActivationKind.Sigmoid);
    /// <summary><c>x * sigmoid(x)</c>.</summary>
    public static ActivationFunction Swish => new(ActivationKind.Swish);
    /// <summary>Hyperbolic tangent.</summary>
    public static ActivationFunction Tanh => new(ActivationKind.Tanh);
    /// <summary>Softmax over the last axis.</summary>
    public static ActivationFunction Softmax => new(ActivationKind.Softmax);
    /// <summary><c>x · relu6(x + 3) / 6</c> (Keras 3's <c>hard_silu</c>, MobileNetV3's hard-swish).</summary>
    public static ActivationFunction HardSwish => new(ActivationKind.HardSwish);
    /// <summary>Keras's <c>selu</c>.</summary>
    public static ActivationFunction Selu => new(ActivationKind.Selu);
    /// <summary>Keras 3's <c>hard_sigmoid</c>: <c>relu6(x + 3) / 6</c>.</summary>
    public static ActivationFunction HardSigmoid => new(ActivationKind.HardSigmoid, Alpha: Keras3HardSigmoidSlope);
    /// <summary>Keras 2's and TensorFlow.js's <c>hard_sigmoid</c>: <c>clip(0.2·x + 0.5, 0, 1)</c>.</summary>
    public static ActivationFunction HardSigmoidKeras2 => new(ActivationKind.HardSigmoid, Alpha: Keras2HardSigmoidSlope);
    /// <summary>Keras's <c>gelu</c> activation, the exact (erf) form.</summary>
    public static ActivationFunction Gelu => new(ActivationKind.Gelu);
    /// <summary><c>log(1 + exp(x))</c>.</summary>
    public static ActivationFunction Softplus => new(ActivationKind.Softplus);

    /// <summary>The slope that marks Keras 3's <c>hard_sigmoid</c> (<see cref="Alpha"/>).</summary>
    public const float Keras3HardSigmoidSlope = 1f / 6f;
    /// <summary>The slope of Keras 2's and TensorFlow.js's <c>hard_sigmoid</c> (<see cref="Alpha"/>).</summary>
    public const float Keras2HardSigmoidSlope = 0.2f;

    /// <summary>Leaky ReLU with <paramref name="negativeSlope"/> (Keras's <c>leaky_relu</c> activation uses 0.2, its <c>LeakyReLU</c> layer 0.3).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The slope is not finite.</exception>
    public static ActivationFunction LeakyRelu(float negativeSlope = 0.2f) =>
        float.IsFinite(negativeSlope) ? new(ActivationKind.LeakyRelu, Alpha: negativeSlope)
            : throw new ArgumentOutOfRangeException(nameof(negativeSlope), $"the negative slope must be finite, got {negativeSlope}");

    /// <summary>ELU with <paramref name="alpha"/> (Keras's default 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">alpha is not finite.</exception>
    public static ActivationFunction Elu(float alpha = 1f) =>
        float.IsFinite(alpha) ? new(ActivationKind.Elu, Alpha: alpha)
            : throw new ArgumentOutOfRangeException(nameof(alpha), $"ELU's alpha must be finite, got {alpha}");

    /// <summary>
    /// Whether this is Keras 2's <c>hard_sigmoid</c>, which a Keras 3 config cannot name (and the reverse for Keras 3's):
    /// what a config writer needs to know to record the version whose meaning it writes.
    /// </summary>
    public bool IsKeras2HardSigmoid => Kind == ActivationKind.HardSigmoid && Alpha == Keras2HardSigmoidSlope;

    /// <summary>True for activations that map each element on its own (all but softmax).</summary>
    public bool IsElementwise => Kind != ActivationKind.Softmax;

    /// <summary>Parses a Keras 3 activation name (<c>relu</c>, <c>relu6</c>, <c>swish</c>, <c>silu</c>, …).</summary>
    /// <exception cref="NotSupportedException">The name is not one NativeCnn implements.</exception>
    public static ActivationFunction FromKerasName(string? name) => FromKerasName(name, kerasMajorVersion: 3);

    /// <summary>
    /// Parses an activation name as the Keras version that wrote it computes it: only <c>hard_sigmoid</c> differs
    /// (Keras 3: <c>relu6(x + 3) / 6</c>; Keras 2 and TensorFlow.js, whose configs carry Keras 2 semantics: <c>clip(0.2·x + 0.5, 0, 1)</c>).
    /// </summary>
    /// <param name="name">The Keras name.</param>
    /// <param name="kerasMajorVersion">3 for Keras 3, anything lower for Keras 2 and TensorFlow.js.</param>
    /// <exception cref="NotSupportedException">The name is not one NativeCnn implements.</exception>
    public static ActivationFunction FromKerasName(string? name, int kerasMajorVersion) => name switch
    {
        null or "" or "linear" => Linear,
        "relu" => Relu,
        "relu6" => Relu6,
        "sigmoid" => Sigmoid,
        "swish" or "silu" => Swish,
        "tanh" => Tanh,
        "softmax" => Softmax,
        "hard_silu" or "hard_swish" => HardSwish,
        "leaky_relu" => LeakyRelu(),
        "elu" => Elu(),
        "selu" => Selu,
        "hard_sigmoid" => kerasMajorVersion >= 3 ? HardSigmoid : HardSigmoidKeras2,
        "gelu" => Gelu,
        "softplus" => Softplus,
        _ => throw new NotSupportedException($"Activation '{name}' is not supported (supported: linear, relu, relu6, sigmoid, swish, silu, tanh, softmax, hard_silu, hard_swish, hard_sigmoid, leaky_relu, elu, selu, gelu, softplus)."),
    };

    /// <summary>The Keras name of this activation.</summary>
    public string KerasName => Kind switch
    {
        ActivationKind.Relu when float.IsPositiveInfinity(MaxValue) => "relu",
        ActivationKind.Relu when MaxValue == 6f => "relu6",
        ActivationKind.Relu => $"relu(max_value={MaxValue})",
        ActivationKind.HardSwish => "hard_silu",
        ActivationKind.LeakyRelu when Alpha == 0.2f => "leaky_relu",
        ActivationKind.LeakyRelu => $"leaky_relu(negative_slope={Alpha})",
        ActivationKind.Elu when Alpha == 1f => "elu",
        ActivationKind.Elu => $"elu(alpha={Alpha})",
        ActivationKind.HardSigmoid => "hard_sigmoid",
        _ => Kind.ToString().ToLowerInvariant(),
    };

    /// <inheritdoc/>
    public override string ToString() => KerasName;
}
