using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>Softmax</c> over the last axis.</summary>
public sealed class Softmax(string name) : Activation(name, ActivationFunction.Softmax)
{
    /// <summary>The Keras config form of <c>Softmax</c>: axis -1 only (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static new KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Softmax>("Softmax",
        read: c => c.Int("axis", -1) == -1 ? new Softmax(c.LayerName) : throw c.Unsupported("axis other than -1"),
        write: (_, c) => c.Int("axis", -1));
}
