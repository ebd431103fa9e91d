using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>DepthwiseConv2D</c>: each input channel filtered on its own. Weights: <c>depthwise_kernel</c>
/// <c>(kh, kw, in, depth_multiplier)</c> (Keras 2's name; Keras 3 calls it <c>kernel</c>) and optional <c>bias</c>.
/// </summary>
public sealed class DepthwiseConv2D : BaseConv2D
{
    /// <summary>Creates the layer; arguments as Keras's.</summary>
    public DepthwiseConv2D(string name, (int Height, int Width) kernelSize, (int Height, int Width)? strides = null,
                           Padding padding = Padding.Valid, int depthMultiplier = 1, (int Height, int Width)? dilationRate = null,
                           bool useBias = true, ActivationFunction? activation = null)
        : base(name, kernelSize, strides, padding, dilationRate, useBias, activation)
    {
        DepthMultiplier = depthMultiplier;
        if (depthMultiplier < 1) throw new ArgumentOutOfRangeException(nameof(depthMultiplier), $"{name}: depth_multiplier must be at least 1, got {depthMultiplier}.");
        WindowArguments.Validate(name, KernelSize, Strides, DilationRate);
        if (!Activation.IsElementwise) throw new ArgumentException($"{name}: a convolution cannot fuse {Activation}.", nameof(activation));
    }

    /// <summary>Creates a layer with a square kernel and stride.</summary>
    public DepthwiseConv2D(string name, int kernelSize, int strides = 1, Padding padding = Padding.Valid, bool useBias = true,
                           ActivationFunction? activation = null)
        : this(name, (kernelSize, kernelSize), (strides, strides), padding, 1, null, useBias, activation) { }

    /// <summary>Output channels per input channel.</summary>
    public int DepthMultiplier { get; }

    private protected override string KernelName => "depthwise_kernel";

    private protected override long OutputChannels(int inputChannels) => (long)inputChannels * DepthMultiplier;

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes)
    {
        int channels = inputShapes[0].Channels;
        AddWeight("depthwise_kernel", new TensorShape(KernelSize.Height, KernelSize.Width, channels, DepthMultiplier), Initializer.GlorotUniform);
        if (UseBias) AddWeight("bias", new TensorShape(WindowArguments.Dimension(this, "output channels", OutputChannels(channels))), Initializer.Zeros);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes)
    {
        var pads = Pads(inputShapes[0]);
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
        write: (layer, c) => layer.WriteConfig(c, c => c.Int("depth_multiplier", layer.DepthMultiplier)),
        weightNames: ["depthwise_kernel", "bias"],
        // Keras 3 saves the depthwise kernel as 'kernel'.
        weightAliases: new Dictionary<string, string> { ["kernel"] = "depthwise_kernel" });
}
