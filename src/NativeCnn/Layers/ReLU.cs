using NativeCnn.Backends;
using NativeCnn.Layers.Config;

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

    /// <summary>The Keras config form of <c>ReLU</c>: max_value; a negative_slope or threshold other than 0 is refused (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static new KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<ReLU>("ReLU",
        read: c =>
        {
            if (c.Double("negative_slope", 0) != 0) throw c.Unsupported("negative_slope (leaky ReLU)");
            if (c.Double("threshold", 0) != 0) throw c.Unsupported("a threshold other than 0");
            double? max = c.OptionalDouble("max_value");
            return new ReLU(c.LayerName, max is { } m ? (float)m : null);
        },
        write: (layer, c) =>
        {
            if (layer.MaxValue is { } max) c.Float("max_value", max);
            else c.Null("max_value");
            c.Int("negative_slope", 0);
            c.Int("threshold", 0);
        });
}
