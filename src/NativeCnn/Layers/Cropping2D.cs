using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>Cropping2D</c>: removes rows at the top and bottom and columns at the left and right.</summary>
public sealed class Cropping2D : Layer
{
    /// <summary>Creates the layer with <c>((top, bottom), (left, right))</c> cropping.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A side is negative.</exception>
    public Cropping2D(string name, Padding2D cropping) : base(name) => Cropping = WindowArguments.NonNegativeSides(name, nameof(cropping), cropping);

    /// <summary>How many rows and columns each side loses.</summary>
    public Padding2D Cropping { get; }

    /// <inheritdoc/>
    /// <exception cref="LayerException">The input is not NHWC, or the cropping leaves no row or no column.</exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleNhwc(inputShapes);
        long height = (long)input.Height - Cropping.Top - Cropping.Bottom, width = (long)input.Width - Cropping.Left - Cropping.Right;
        if (height < 1 || width < 1)
            throw Error($"cropping (({Cropping.Top}, {Cropping.Bottom}), ({Cropping.Left}, {Cropping.Right})) of {input} leaves {height} x {width}");
        return TensorShape.Nhwc(input.Batch, (int)height, (int)width, input.Channels);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new Cropping2DOp(Cropping);

    /// <inheritdoc/>
    public override string Describe() => $"Cropping2D (({Cropping.Top}, {Cropping.Bottom}), ({Cropping.Left}, {Cropping.Right}))";

    /// <summary>The Keras config form of <c>Cropping2D</c>: cropping as c, (ch, cw) or ((top, bottom), (left, right)), 0 when
    /// absent (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Cropping2D>("Cropping2D",
        read: c =>
        {
            c.RequireChannelsLast();
            return new Cropping2D(c.LayerName, c.Sides("cropping", 0));
        },
        write: (layer, c) =>
        {
            c.PairOfPairs("cropping", (layer.Cropping.Top, layer.Cropping.Bottom), (layer.Cropping.Left, layer.Cropping.Right));
            c.ChannelsLast();
        });
}
