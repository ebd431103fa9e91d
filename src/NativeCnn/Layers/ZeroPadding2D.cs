using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>ZeroPadding2D</c>: zeros around height and width, each side set on its own (Keras pads asymmetrically).</summary>
public sealed class ZeroPadding2D : Layer
{
    /// <summary>Creates the layer with <c>((top, bottom), (left, right))</c> padding.</summary>
    public ZeroPadding2D(string name, Padding2D padding) : base(name) => Padding = WindowArguments.NonNegativeSides(name, nameof(padding), padding);

    /// <summary>Creates the layer with the same padding on all four sides.</summary>
    public ZeroPadding2D(string name, int padding) : this(name, new Padding2D(padding, padding, padding, padding)) { }

    /// <summary>The padding on each side.</summary>
    public Padding2D Padding { get; }

    /// <inheritdoc/>
    /// <remarks>Output <c>(batch, in_h + top + bottom, in_w + left + right, channels)</c>, summed in 64 bits.</remarks>
    /// <exception cref="LayerException">
    /// The input is not NHWC, a padded size does not fit 32 bits, or the output needs more elements or bytes than any
    /// backend could hold; the message names the layer, the sizes and the bytes.
    /// </exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleNhwc(inputShapes);
        int height = WindowArguments.Dimension(this, $"padded height {input.Height} + {Padding.Top} + {Padding.Bottom} =", (long)input.Height + Padding.Top + Padding.Bottom);
        int width = WindowArguments.Dimension(this, $"padded width {input.Width} + {Padding.Left} + {Padding.Right} =", (long)input.Width + Padding.Left + Padding.Right);
        return WindowArguments.Output(this, input.Batch, height, width, input.Channels);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new ZeroPadding2DOp(Padding);

    /// <inheritdoc/>
    public override string Describe() => $"ZeroPadding2D (({Padding.Top}, {Padding.Bottom}), ({Padding.Left}, {Padding.Right}))";

    /// <summary>The Keras config form of <c>ZeroPadding2D</c>: padding, as p, (ph, pw) or ((top, bottom), (left, right)) (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<ZeroPadding2D>("ZeroPadding2D",
        read: c => new ZeroPadding2D(c.LayerName, c.ZeroPadding()),
        write: (layer, c) =>
        {
            c.PairOfPairs("padding", (layer.Padding.Top, layer.Padding.Bottom), (layer.Padding.Left, layer.Padding.Right));
            c.ChannelsLast();
        });
}
