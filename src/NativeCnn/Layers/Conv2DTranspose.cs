using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>Conv2DTranspose</c> (decoders, U-Nets, super-resolution nets): a transposed convolution with a
/// <c>kernel</c> <c>(kh, kw, filters, in)</c> and an optional <c>bias</c>. The output size is Keras's
/// <c>deconv_output_length</c>: without <c>output_padding</c>, <c>in · stride</c> ('same') or
/// <c>in · stride + max(k − stride, 0)</c> ('valid'); with it, <c>(in − 1) · stride + k − 2 · pad + output_padding</c>, where
/// <c>pad</c> is <c>k / 2</c> for 'same' and 0 for 'valid'.
/// </summary>
public sealed class Conv2DTranspose : Layer
{
    /// <summary>Creates the layer; arguments as Keras's (dilation other than 1 is not supported).</summary>
    /// <exception cref="ArgumentOutOfRangeException">filters, a kernel size or a stride is below 1, or an output padding is
    /// negative or not less than its stride (Keras's rule).</exception>
    /// <exception cref="ArgumentException">The activation is not element-wise.</exception>
    public Conv2DTranspose(string name, int filters, (int Height, int Width) kernelSize, (int Height, int Width)? strides = null,
                           Padding padding = Padding.Valid, (int Height, int Width)? outputPadding = null, bool useBias = true,
                           ActivationFunction? activation = null) : base(name)
    {
        if (filters < 1) throw new ArgumentOutOfRangeException(nameof(filters), $"{name}: filters must be at least 1, got {filters}.");
        Filters = filters;
        KernelSize = kernelSize;
        Strides = strides ?? (1, 1);
        Padding = padding;
        UseBias = useBias;
        Activation = activation ?? ActivationFunction.Linear;
        WindowArguments.Validate(name, KernelSize, Strides, (1, 1));
        if (outputPadding is { } op && (op.Height < 0 || op.Width < 0 || op.Height >= Strides.Height || op.Width >= Strides.Width))
            throw new ArgumentOutOfRangeException(nameof(outputPadding), $"{name}: output_padding {op} must be non-negative and less than the strides {Strides}.");
        OutputPadding = outputPadding;
        if (!Activation.IsElementwise) throw new ArgumentException($"{name}: a convolution cannot fuse {Activation}.", nameof(activation));
    }

    /// <summary>Creates a layer with a square kernel and stride.</summary>
    public Conv2DTranspose(string name, int filters, int kernelSize, int strides = 1, Padding padding = Padding.Valid,
                           bool useBias = true, ActivationFunction? activation = null)
        : this(name, filters, (kernelSize, kernelSize), (strides, strides), padding, null, useBias, activation) { }

    /// <summary>Output channels.</summary>
    public int Filters { get; }
    /// <summary>Kernel height and width.</summary>
    public (int Height, int Width) KernelSize { get; }
    /// <summary>Strides: output pixels between consecutive input pixels.</summary>
    public (int Height, int Width) Strides { get; }
    /// <summary>Keras padding mode.</summary>
    public Padding Padding { get; }
    /// <summary>Keras <c>output_padding</c>: extra rows and columns at the bottom and right; null for Keras's default size.</summary>
    public (int Height, int Width)? OutputPadding { get; }
    /// <summary>Whether the layer has a bias.</summary>
    public bool UseBias { get; }
    /// <summary>The fused activation.</summary>
    public ActivationFunction Activation { get; }

    /// <summary>Keras's <c>deconv_output_length</c> for one axis, checked to fit 32 bits.</summary>
    private int OutputLength(string axis, int input, int kernel, int stride, int? outputPadding)
    {
        long length = outputPadding is { } op
            ? (input - 1L) * stride + kernel - 2L * (Padding == Padding.Same ? kernel / 2 : 0) + op
            : Padding == Padding.Valid ? (long)input * stride + Math.Max(kernel - stride, 0) : (long)input * stride;
        if (length < 1) throw Error($"input {axis} {input} gives no output {axis} ({length}) for kernel {kernel}, stride {stride}, output padding {outputPadding}");
        return WindowArguments.Dimension(this, $"output {axis}", length);
    }

    /// <inheritdoc/>
    /// <exception cref="LayerException">The input is not NHWC, has other channels than the kernel was built for, or the
    /// output does not fit; the message names the layer and the numbers.</exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleNhwc(inputShapes);
        ExpectBuiltChannels(input, "kernel", 3);
        int height = OutputLength("height", input.Height, KernelSize.Height, Strides.Height, OutputPadding?.Height);
        int width = OutputLength("width", input.Width, KernelSize.Width, Strides.Width, OutputPadding?.Width);
        if (Conv2DTransposeOp.PadBefore(Padding, input.Height, height, KernelSize.Height, Strides.Height) is null
            || Conv2DTransposeOp.PadBefore(Padding, input.Width, width, KernelSize.Width, Strides.Width) is null)
            throw Error($"a {height}x{width} output is not what a '{Padding.ToString().ToLowerInvariant()}' convolution maps back to the {input.Height}x{input.Width} input");
        return WindowArguments.Output(this, input.Batch, height, width, Filters);
    }

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes)
    {
        AddWeight("kernel", new TensorShape(KernelSize.Height, KernelSize.Width, Filters, inputShapes[0].Channels), Initializer.GlorotUniform);
        if (UseBias) AddWeight("bias", new TensorShape(Filters), Initializer.Zeros);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = inputShapes[0];
        var output = ComputeOutputShape(inputShapes);
        int top = Conv2DTransposeOp.PadBefore(Padding, input.Height, output.Height, KernelSize.Height, Strides.Height)!.Value;
        int left = Conv2DTransposeOp.PadBefore(Padding, input.Width, output.Width, KernelSize.Width, Strides.Width)!.Value;
        return new Conv2DTransposeOp(KernelSize.Height, KernelSize.Width, Strides.Height, Strides.Width, top, left,
                                     output.Height, output.Width, Filters, UseBias, Activation);
    }

    /// <inheritdoc/>
    /// <remarks>Each input element meets <c>kh · kw · filters</c> weights.</remarks>
    public override long CountMultiplyAccumulates(IReadOnlyList<TensorShape> inputShapes, TensorShape outputShape) =>
        WindowArguments.MultiplyAccumulates(inputShapes[0].ElementCount, KernelSize.Height, KernelSize.Width, Filters);

    /// <inheritdoc/>
    public override string Describe() =>
        $"Conv2DTranspose {KernelSize.Height}x{KernelSize.Width}/{Strides.Height} {Padding.ToString().ToLowerInvariant()} f={Filters}{(Activation.Kind == ActivationKind.Linear ? "" : " " + Activation)}";

    /// <summary>The Keras config form of <c>Conv2DTranspose</c>: filters, kernel_size, strides, padding, output_padding,
    /// activation, use_bias; dilation other than 1 is refused (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Conv2DTranspose>("Conv2DTranspose",
        read: c =>
        {
            c.RequireChannelsLast();
            if (c.Pair("dilation_rate", 1) != (1, 1)) throw c.Unsupported("dilation_rate other than 1");
            (int, int)? outputPadding = c.Has("output_padding") ? c.Pair("output_padding") : null;
            return new Conv2DTranspose(c.LayerName, c.Int("filters"), c.Pair("kernel_size"), c.Pair("strides", 1), c.Padding(),
                                       outputPadding, c.Bool("use_bias", true), c.Activation());
        },
        write: (layer, c) =>
        {
            c.Int("filters", layer.Filters);
            c.Pair("kernel_size", layer.KernelSize);
            c.Pair("strides", layer.Strides);
            c.Padding(layer.Padding);
            if (layer.OutputPadding is { } op) c.Pair("output_padding", op);
            else c.Null("output_padding");
            c.Pair("dilation_rate", (1, 1));
            c.ChannelsLast();
            c.Activation(layer.Activation);
            c.Bool("use_bias", layer.UseBias);
        },
        weightNames: ["kernel", "bias"]);
}
