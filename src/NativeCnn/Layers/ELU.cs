using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>ELU</c>: <c>x</c> for <c>x ≥ 0</c>, else <c>alpha · (exp(x) − 1)</c> (alpha 1 by default).</summary>
public sealed class ELU : Activation
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">alpha is not finite.</exception>
    public ELU(string name, float alpha = 1f) : base(name, ActivationFunction.Elu(alpha)) { }

    /// <summary>The scale of the negative part.</summary>
    public float Alpha => Function.Alpha;

    /// <summary>The Keras config form of <c>ELU</c>: <c>alpha</c>, 1 when absent (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static new KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<ELU>("ELU",
        read: c => new ELU(c.LayerName, (float)c.Double("alpha", 1.0)),
        write: (layer, c) => c.Float("alpha", layer.Alpha));
}
