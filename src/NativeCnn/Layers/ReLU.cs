using NativeCnn.Backends;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>ReLU</c>: <c>min(max(x, 0), max_value)</c>. MobileNetV2 uses <c>ReLU(6.0)</c>. Keras's <c>negative_slope</c> and
/// <c>threshold</c> are not supported (no model here uses them), so they are not arguments.
/// </summary>
public sealed class ReLU : Activation
{
    /// <summary>Creates the layer; <paramref name="maxValue"/> null means uncapped.</summary>
    public ReLU(string name, float? maxValue = null)
        : base(name, maxValue is { } max ? new ActivationFunction(ActivationKind.Relu, max) : ActivationFunction.Relu)
    {
        if (maxValue is < 0) throw new ArgumentOutOfRangeException(nameof(maxValue), $"{name}: max_value must be non-negative, got {maxValue}.");
    }

    /// <summary>The cap, or null.</summary>
    public float? MaxValue => float.IsPositiveInfinity(Function.MaxValue) ? null : Function.MaxValue;
}
