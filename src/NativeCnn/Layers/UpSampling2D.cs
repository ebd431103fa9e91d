using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>UpSampling2D</c>: enlarges height and width by whole factors, by repeating pixels (<c>nearest</c>, the
/// default) or by TensorFlow 2's half-pixel bilinear resize (<c>bilinear</c>, what Keras's <c>tf.image.resize</c> does).
/// </summary>
public sealed class UpSampling2D : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">The layer name.</param>
    /// <param name="size">Height and width factors, each at least 1.</param>
    /// <param name="interpolation">How new pixels are filled.</param>
    /// <exception cref="ArgumentOutOfRangeException">A factor is below 1.</exception>
    public UpSampling2D(string name, (int Height, int Width) size, Interpolation interpolation = Interpolation.Nearest) : base(name)
    {
        if (size.Height < 1 || size.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(size), $"{name}: up-sampling factors must be at least 1, got ({size.Height}, {size.Width}).");
        Size = size;
        Interpolation = interpolation;
    }

    /// <summary>Creates the layer with the same factor for height and width (Keras's default is 2).</summary>
    public UpSampling2D(string name, int size = 2, Interpolation interpolation = Interpolation.Nearest) : this(name, (size, size), interpolation) { }

    /// <summary>Height and width factors.</summary>
    public (int Height, int Width) Size { get; }

    /// <summary>How new pixels are filled.</summary>
    public Interpolation Interpolation { get; }

    /// <inheritdoc/>
    /// <exception cref="LayerException">The input is not NHWC, or an enlarged size or the output does not fit.</exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleNhwc(inputShapes);
        int height = WindowArguments.Dimension(this, $"up-sampled height {input.Height} x {Size.Height} =", (long)input.Height * Size.Height);
        int width = WindowArguments.Dimension(this, $"up-sampled width {input.Width} x {Size.Width} =", (long)input.Width * Size.Width);
        return WindowArguments.Output(this, input.Batch, height, width, input.Channels);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new UpSampling2DOp(Size.Height, Size.Width, Interpolation);

    /// <inheritdoc/>
    public override string Describe() => $"UpSampling2D {Size.Height}x{Size.Width} {Interpolation.ToString().ToLowerInvariant()}";

    /// <summary>The Keras config form of <c>UpSampling2D</c>: <c>size</c> (2 when absent) and <c>interpolation</c>
    /// (<c>nearest</c> when absent; <c>bilinear</c>; others refused) (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<UpSampling2D>("UpSampling2D",
        read: c =>
        {
            c.RequireChannelsLast();
            var interpolation = c.String("interpolation", "nearest") switch
            {
                "nearest" => Interpolation.Nearest,
                "bilinear" => Interpolation.Bilinear,
                var other => throw c.Unsupported($"interpolation '{KerasConfigReader.Shorten(other)}'"),
            };
            return new UpSampling2D(c.LayerName, c.Pair("size", 2), interpolation);
        },
        write: (layer, c) =>
        {
            c.Pair("size", layer.Size);
            c.ChannelsLast();
            c.String("interpolation", layer.Interpolation == Interpolation.Bilinear ? "bilinear" : "nearest");
        });
}
