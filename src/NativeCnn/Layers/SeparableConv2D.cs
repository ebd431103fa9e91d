using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>SeparableConv2D</c> (Xception-style nets): a depthwise convolution (no bias, no activation), then a pointwise
/// 1x1 convolution with the bias and activation. Weights: <c>depthwise_kernel</c> <c>(kh, kw, in, depth_multiplier)</c>,
/// <c>pointwise_kernel</c> <c>(1, 1, in · depth_multiplier, filters)</c> and optional <c>bias</c> <c>(filters)</c>.
/// </summary>
public sealed class SeparableConv2D : BaseConv2D
{
    /// <summary>Creates the layer; arguments as Keras's.</summary>
    /// <exception cref="ArgumentOutOfRangeException">filters or depth_multiplier is below 1, or the window arguments are invalid.</exception>
    /// <exception cref="ArgumentException">The activation is not element-wise.</exception>
    public SeparableConv2D(string name, int filters, (int Height, int Width) kernelSize, (int Height, int Width)? strides = null,
                           Padding padding = Padding.Valid, int depthMultiplier = 1, (int Height, int Width)? dilationRate = null,
                           bool useBias = true, ActivationFunction? activation = null)
        : base(name, kernelSize, strides, padding, dilationRate, useBias, activation)
    {
        if (filters < 1) throw new ArgumentOutOfRangeException(nameof(filters), $"{name}: filters must be at least 1, got {filters}.");
        if (depthMultiplier < 1) throw new ArgumentOutOfRangeException(nameof(depthMultiplier), $"{name}: depth_multiplier must be at least 1, got {depthMultiplier}.");
        WindowArguments.Validate(name, KernelSize, Strides, DilationRate);
        if (!Activation.IsElementwise) throw new ArgumentException($"{name}: a convolution cannot fuse {Activation}.", nameof(activation));
        Filters = filters;
        DepthMultiplier = depthMultiplier;
    }

    /// <summary>Output channels.</summary>
    public int Filters { get; }

    /// <summary>Depthwise output channels per input channel.</summary>
    public int DepthMultiplier { get; }

    private protected override string KernelName => "depthwise_kernel";

    private protected override long OutputChannels(int inputChannels) => Filters;

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes)
    {
        int channels = inputShapes[0].Channels;
        int expanded = WindowArguments.Dimension(this, "depthwise output channels", (long)channels * DepthMultiplier);
        AddWeight("depthwise_kernel", new TensorShape(KernelSize.Height, KernelSize.Width, channels, DepthMultiplier), Initializer.GlorotUniform);
        AddWeight("pointwise_kernel", new TensorShape(1, 1, expanded, Filters), Initializer.GlorotUniform);
        if (UseBias) AddWeight("bias", new TensorShape(Filters), Initializer.Zeros);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes)
    {
        var pads = Pads(inputShapes[0]);
        var depthwise = new DepthwiseConv2DOp(KernelSize.Height, KernelSize.Width, Strides.Height, Strides.Width,
                                              DilationRate.Height, DilationRate.Width, pads, DepthMultiplier, UseBias: false, ActivationFunction.Linear);
        var pointwise = new Conv2DOp(1, 1, 1, 1, 1, 1, Padding2D.None, Filters, UseBias, Activation);
        return new SeparableConv2DOp(depthwise, pointwise);
    }

    /// <inheritdoc/>
    /// <remarks>The depthwise step's <c>kh · kw</c> per intermediate element plus the pointwise step's
    /// <c>in · depth_multiplier</c> per output element.</remarks>
    public override long CountMultiplyAccumulates(IReadOnlyList<TensorShape> inputShapes, TensorShape outputShape)
    {
        long expanded = (long)inputShapes[0].Channels * DepthMultiplier;
        long pixels = outputShape.ElementCount / outputShape.Channels;
        return WindowArguments.MultiplyAccumulates(pixels * expanded, KernelSize.Height, KernelSize.Width)
               + WindowArguments.MultiplyAccumulates(outputShape.ElementCount, expanded);
    }

    /// <inheritdoc/>
    public override string Describe() =>
        $"SeparableConv2D {KernelSize.Height}x{KernelSize.Width}/{Strides.Height} {Padding.ToString().ToLowerInvariant()}";

    /// <summary>The Keras config form of <c>SeparableConv2D</c>: filters, kernel_size, strides, padding, depth_multiplier,
    /// dilation_rate, use_bias, activation (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<SeparableConv2D>("SeparableConv2D",
        read: c =>
        {
            c.RequireChannelsLast();
            return new SeparableConv2D(c.LayerName, c.Int("filters"), c.Pair("kernel_size"), c.Pair("strides", 1), c.Padding(),
                                       c.Int("depth_multiplier", 1), c.Pair("dilation_rate", 1), c.Bool("use_bias", true), c.Activation());
        },
        write: (layer, c) =>
        {
            c.Int("filters", layer.Filters);
            layer.WriteConfig(c, c => c.Int("depth_multiplier", layer.DepthMultiplier));
        },
        weightNames: ["depthwise_kernel", "pointwise_kernel", "bias"]);
}
