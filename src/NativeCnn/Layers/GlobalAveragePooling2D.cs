using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>GlobalAveragePooling2D</c>: the mean over height and width per channel.</summary>
public sealed class GlobalAveragePooling2D(string name, bool keepDims = false) : GlobalPooling2D(name, PoolingMode.Average, keepDims)
{
    /// <summary>The Keras config form of <c>GlobalAveragePooling2D</c>: keepdims (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } =
        KerasEntryFor("GlobalAveragePooling2D", (name, keepDims) => new GlobalAveragePooling2D(name, keepDims));
}
