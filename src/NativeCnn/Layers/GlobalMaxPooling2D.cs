using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>GlobalMaxPooling2D</c>: the max over height and width per channel.</summary>
public sealed class GlobalMaxPooling2D(string name, bool keepDims = false) : GlobalPooling2D(name, PoolingMode.Max, keepDims)
{
    /// <summary>The Keras config form of <c>GlobalMaxPooling2D</c>: keepdims (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } =
        KerasEntryFor("GlobalMaxPooling2D", (name, keepDims) => new GlobalMaxPooling2D(name, keepDims));
}
