using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>MaxPooling2D</c>.</summary>
public sealed class MaxPooling2D(string name, (int Height, int Width) poolSize, (int Height, int Width)? strides = null, Padding padding = Padding.Valid)
    : Pooling2D(name, PoolingMode.Max, poolSize, strides, padding)
{
    /// <summary>Creates the layer with a square window and stride.</summary>
    public MaxPooling2D(string name, int poolSize = 2, int? strides = null, Padding padding = Padding.Valid)
        : this(name, (poolSize, poolSize), strides is { } s ? (s, s) : null, padding) { }

    /// <summary>The Keras config form of <c>MaxPooling2D</c>: square pool_size and strides, padding (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } =
        KerasEntryFor("MaxPooling2D", (name, poolSize, strides, padding) => new MaxPooling2D(name, poolSize, strides, padding));
}
