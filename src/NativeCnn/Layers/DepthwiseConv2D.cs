using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>DepthwiseConv2D</c>: each input channel filtered on its own. Weights: <c>depthwise_kernel</c>
/// <c>(kh, kw, in, depth_multiplier)</c> (Keras 2's name; Keras 3 calls it <c>kernel</c>) and optional <c>bias</c>.
/// </summary>
public sealed class DepthwiseConv2D : Layer
{
    /// <summary>Creates the layer; arguments as Keras's.</summary>
    public DepthwiseConv2D(string name, (int Height, int Width) kernelSize, (int Height, int Width)? strides = null,
                           Padding padding = Padding.Valid, int depthMultiplier = 1, (int Height, int Width)? dilationRate = null,
                           bool useBias = true, ActivationFunction? activation = null) : base(name)
    {
        KernelSize = kernelSize;
        Strides = strides ?? (1, 1);
        DilationRate = dilationRate ?? (1, 1);
        Padding = padding;
        DepthMultiplier = depthMultiplier;
        UseBias = useBias;
        Activation = activation ?? ActivationFunction.Linear;
        if (depthMultiplier < 1) throw new ArgumentOutOfRangeException(nameof(depthMultiplier), $"{name}: depth_multiplier must be at least 1, got {depthMultiplier}.");
        WindowArguments.Validate(name, KernelSize, Strides, DilationRate);
        if (!Activation.IsElementwise) throw new ArgumentException($"{name}: a convolution cannot fuse {Activation}.", nameof(activation));
    }

    /// <summary>Creates a layer with a square kernel and stride.</summary>
    public DepthwiseConv2D(string name, int kernelSize, int strides = 1, Padding padding = Padding.Valid, bool useBias = true,
                           ActivationFunction? activation = null)
        : this(name, (kernelSize, kernelSize), (strides, strides), padding, 1, null, useBias, activation) { }

    /// <summary>Kernel height and width.</summary>
    public (int Height, int Width) KernelSize { get; }
    /// <summary>Strides.</summary>
    public (int Height, int Width) Strides { get; }
    /// <summary>Dilation rate.</summary>
    public (int Height, int Width) DilationRate { get; }
    /// <summary>Keras padding mode.</summary>
    public Padding Padding { get; }
    /// <summary>Output channels per input channel.</summary>
    public int DepthMultiplier { get; }
    /// <summary>Whether the layer has a bias.</summary>
    public bool UseBias { get; }
    /// <summary>The fused activation.</summary>
    public ActivationFunction Activation { get; }

    /// <inheritdoc/>
    /// <remarks>
    /// The window rule of every windowed layer applies: a 'valid' window must fit the input; a 'same' window may be
    /// larger than the input undilated (MobileNetV2's 3x3 on a 1x1 map), but a dilation of at least the input size
    /// (kernel &gt; 1) is refused, since at most one tap could reach the input; pads, padded extents, the output
    /// channels <c>in · depth_multiplier</c> and the output must fit 32-bit sizes and memory.
    /// </remarks>
    /// <exception cref="LayerException">
    /// The input is not NHWC, has the wrong channel count, or the window does not fit it by the rule above; the message
    /// names the layer, the input, the kernel, the dilation and the padding.
    /// </exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleNhwc(inputShapes);
        ExpectBuiltChannels(input, "depthwise_kernel", 2);
        var (h, w) = WindowArguments.OutputSize(this, input, KernelSize, Strides, DilationRate, Padding);
        return WindowArguments.Output(this, input.Batch, h, w, (long)input.Channels * DepthMultiplier);
    }

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes)
    {
        int channels = inputShapes[0].Channels;
        AddWeight("depthwise_kernel", new TensorShape(KernelSize.Height, KernelSize.Width, channels, DepthMultiplier), Initializer.GlorotUniform);
        if (UseBias) AddWeight("bias", new TensorShape(WindowArguments.Dimension(this, "output channels", (long)channels * DepthMultiplier)), Initializer.Zeros);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = inputShapes[0];
        var pads = Padding2D.Resolve(Padding, input.Height, input.Width, KernelSize.Height, KernelSize.Width,
                                     Strides.Height, Strides.Width, DilationRate.Height, DilationRate.Width);
        return new DepthwiseConv2DOp(KernelSize.Height, KernelSize.Width, Strides.Height, Strides.Width,
                                     DilationRate.Height, DilationRate.Width, pads, DepthMultiplier, UseBias, Activation);
    }

    /// <inheritdoc/>
    public override long CountMultiplyAccumulates(IReadOnlyList<TensorShape> inputShapes, TensorShape outputShape) =>
        WindowArguments.MultiplyAccumulates(outputShape.ElementCount, KernelSize.Height, KernelSize.Width);

    /// <inheritdoc/>
    public override string Describe() =>
        $"DepthwiseConv2D {KernelSize.Height}x{KernelSize.Width}/{Strides.Height} {Padding.ToString().ToLowerInvariant()}";

    /// <summary>The Keras config form of <c>DepthwiseConv2D</c>: kernel_size, strides, padding, depth_multiplier, dilation_rate, use_bias, activation (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<DepthwiseConv2D>("DepthwiseConv2D",
        read: c => new DepthwiseConv2D(c.LayerName, c.Pair("kernel_size"), c.Pair("strides", 1), c.Padding(), c.Int("depth_multiplier", 1),
                                       c.Pair("dilation_rate", 1), c.Bool("use_bias", true), c.Activation()),
        write: (layer, c) =>
        {
            c.Pair("kernel_size", layer.KernelSize);
            c.Pair("strides", layer.Strides);
            c.Padding(layer.Padding);
            c.Pair("dilation_rate", layer.DilationRate);
            c.Int("depth_multiplier", layer.DepthMultiplier);
            c.ChannelsLast();
            c.Activation(layer.Activation);
            c.Bool("use_bias", layer.UseBias);
        },
        weightNames: ["depthwise_kernel", "bias"],
        // Keras 3 saves the depthwise kernel as 'kernel'.
        weightAliases: new Dictionary<string, string> { ["kernel"] = "depthwise_kernel" });
}
