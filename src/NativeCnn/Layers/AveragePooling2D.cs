using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>AveragePooling2D</c>; with SAME padding the mean counts only in-bounds cells, as TensorFlow.</summary>
public sealed class AveragePooling2D(string name, (int Height, int Width) poolSize, (int Height, int Width)? strides = null, Padding padding = Padding.Valid)
    : Pooling2D(name, PoolingMode.Average, poolSize, strides, padding)
{
    /// <summary>Creates the layer with a square window and stride.</summary>
    public AveragePooling2D(string name, int poolSize = 2, int? strides = null, Padding padding = Padding.Valid)
        : this(name, (poolSize, poolSize), strides is { } s ? (s, s) : null, padding) { }

    /// <summary>The Keras config form of <c>AveragePooling2D</c>: square pool_size and strides, padding (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } =
        KerasEntryFor("AveragePooling2D", (name, poolSize, strides, padding) => new AveragePooling2D(name, poolSize, strides, padding));
}
