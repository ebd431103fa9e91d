using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Pooling over all of height and width (the base of the global pooling layers).</summary>
public abstract class GlobalPooling2D : Layer
{
    private protected GlobalPooling2D(string name, PoolingMode mode, bool keepDims) : base(name)
    {
        Mode = mode;
        KeepDims = keepDims;
    }

    /// <summary>Max or average.</summary>
    public PoolingMode Mode { get; }

    /// <summary>Keras <c>keepdims</c>: output <c>(N, 1, 1, C)</c> instead of <c>(N, C)</c>.</summary>
    public bool KeepDims { get; }

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleNhwc(inputShapes);
        return KeepDims ? TensorShape.Nhwc(input.Batch, 1, 1, input.Channels) : new TensorShape(input.Batch, input.Channels);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new GlobalPooling2DOp(Mode);

    /// <summary>The Keras config form the global poolings share: <c>keepdims</c>.</summary>
    private protected static KerasLayerEntry KerasEntryFor<TPooling>(string className, Func<string, bool, TPooling> create)
        where TPooling : GlobalPooling2D =>
        KerasLayerEntry.Create<TPooling>(className,
            read: c => create(c.LayerName, c.Bool("keepdims", false)),
            write: (layer, c) =>
            {
                c.ChannelsLast();
                c.Bool("keepdims", layer.KeepDims);
            });
}

/// <summary>Keras <c>GlobalAveragePooling2D</c>: the mean over height and width per channel.</summary>
public sealed class GlobalAveragePooling2D(string name, bool keepDims = false) : GlobalPooling2D(name, PoolingMode.Average, keepDims)
{
    /// <summary>The Keras config form of <c>GlobalAveragePooling2D</c>: keepdims (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } =
        KerasEntryFor("GlobalAveragePooling2D", (name, keepDims) => new GlobalAveragePooling2D(name, keepDims));
}

/// <summary>Keras <c>GlobalMaxPooling2D</c>: the max over height and width per channel.</summary>
public sealed class GlobalMaxPooling2D(string name, bool keepDims = false) : GlobalPooling2D(name, PoolingMode.Max, keepDims)
{
    /// <summary>The Keras config form of <c>GlobalMaxPooling2D</c>: keepdims (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } =
        KerasEntryFor("GlobalMaxPooling2D", (name, keepDims) => new GlobalMaxPooling2D(name, keepDims));
}
