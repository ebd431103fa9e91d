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
}

/// <summary>An activation with its arguments, e.g. Keras <c>ReLU(max_value=6.0)</c>.</summary>
/// <param name="Kind">The function.</param>
/// <param name="MaxValue">For <see cref="ActivationKind.Relu"/>, the cap (positive infinity for none).</param>
public readonly record struct ActivationFunction(ActivationKind Kind, float MaxValue = float.PositiveInfinity)
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

    /// <summary>True for activations that map each element on its own (all but softmax).</summary>
    public bool IsElementwise => Kind != ActivationKind.Softmax;

    /// <summary>Parses a Keras activation name (<c>relu</c>, <c>relu6</c>, <c>swish</c>, <c>silu</c>, …).</summary>
    /// <exception cref="NotSupportedException">The name is not one NativeCnn implements.</exception>
    public static ActivationFunction FromKerasName(string? name) => name switch
    {
        null or "" or "linear" => Linear,
        "relu" => Relu,
        "relu6" => Relu6,
        "sigmoid" => Sigmoid,
        "swish" or "silu" => Swish,
        "tanh" => Tanh,
        "softmax" => Softmax,
        _ => throw new NotSupportedException($"Activation '{name}' is not supported (supported: linear, relu, relu6, sigmoid, swish, silu, tanh, softmax)."),
    };

    /// <summary>The Keras name of this activation.</summary>
    public string KerasName => Kind switch
    {
        ActivationKind.Relu when float.IsPositiveInfinity(MaxValue) => "relu",
        ActivationKind.Relu when MaxValue == 6f => "relu6",
        ActivationKind.Relu => $"relu(max_value={MaxValue})",
        _ => Kind.ToString().ToLowerInvariant(),
    };

    /// <inheritdoc/>
    public override string ToString() => KerasName;
}
