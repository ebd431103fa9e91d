using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>ELU</c>: <c>x</c> for <c>x ≥ 0</c>, else <c>alpha · (exp(x) − 1)</c> (alpha 1 by default).</summary>
/// <param name="name">The layer name.</param>
/// <param name="alpha">The scale of the negative part; finite.</param>
public sealed class ELU(string name, float alpha = 1f) : Activation(name, ActivationFunction.Elu(alpha))
{
    /// <summary>The scale of the negative part.</summary>
    public float Alpha => Function.Alpha;

    /// <summary>The Keras config form of <c>ELU</c>: <c>alpha</c>, 1 when absent (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static new KerasLayerEntry KerasEntry { get; } = OneArgumentEntry("ELU", "alpha", null, "alpha", 1.0, (layerName, a) => new ELU(layerName, a));
}
