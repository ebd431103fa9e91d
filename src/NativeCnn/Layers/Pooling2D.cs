using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Windowed pooling (the base of <see cref="MaxPooling2D"/> and <see cref="AveragePooling2D"/>).</summary>
public abstract class Pooling2D : Layer
{
    private protected Pooling2D(string name, PoolingMode mode, (int Height, int Width) poolSize,
                                (int Height, int Width)? strides, Padding padding) : base(name)
    {
        Mode = mode;
        PoolSize = poolSize;
        Strides = strides ?? poolSize; // Keras: strides default to pool_size
        Padding = padding;
        WindowArguments.Validate(name, PoolSize, Strides, (1, 1));
    }

    /// <summary>Max or average.</summary>
    public PoolingMode Mode { get; }
    /// <summary>Window height and width.</summary>
    public (int Height, int Width) PoolSize { get; }
    /// <summary>Strides.</summary>
    public (int Height, int Width) Strides { get; }
    /// <summary>Keras padding mode; SAME padding cells are ignored, not zeros.</summary>
    public Padding Padding { get; }

    /// <inheritdoc/>
    /// <remarks>
    /// The window rule of every windowed layer applies: a 'valid' window must fit the input; a 'same' window may be
    /// larger than the input (a 7x7 pool on a small map), its padding always less than the window; pads, padded
    /// extents and the output must fit 32-bit sizes and memory.
    /// </remarks>
    /// <exception cref="LayerException">The input is not NHWC or the window does not fit it by the rule above.</exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleNhwc(inputShapes);
        var (h, w) = WindowArguments.OutputSize(this, input, PoolSize, Strides, (1, 1), Padding);
        return WindowArguments.Output(this, input.Batch, h, w, input.Channels);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = inputShapes[0];
        var pads = Padding2D.Resolve(Padding, input.Height, input.Width, PoolSize.Height, PoolSize.Width, Strides.Height, Strides.Width);
        return new Pooling2DOp(Mode, PoolSize.Height, PoolSize.Width, Strides.Height, Strides.Width, pads);
    }

    /// <inheritdoc/>
    public override string Describe() => $"{ClassName} {PoolSize.Height}x{PoolSize.Width}/{Strides.Height} {Padding.ToString().ToLowerInvariant()}";

    /// <summary>The Keras config form the windowed poolings share: square <c>pool_size</c> (2 when absent) and
    /// <c>strides</c> (<c>pool_size</c> when absent), and <c>padding</c>.</summary>
    private protected static KerasLayerEntry KerasEntryFor<TPooling>(string className, Func<string, int, int?, Padding, TPooling> create)
        where TPooling : Pooling2D =>
        KerasLayerEntry.Create<TPooling>(className,
            read: c => create(c.LayerName, c.SquarePool("pool_size"), c.OptionalSquarePool("strides"), c.Padding()),
            write: (layer, c) =>
            {
                c.Pair("pool_size", layer.PoolSize);
                c.Pair("strides", layer.Strides);
                c.Padding(layer.Padding);
                c.ChannelsLast();
            });
}

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
