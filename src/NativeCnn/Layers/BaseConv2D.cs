using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// A 2-D convolution's window, bias and fused activation: the base of <see cref="Conv2D"/> and
/// <see cref="DepthwiseConv2D"/>, which share these arguments and their window rule (as Keras 2's depthwise
/// convolution derives from its <c>Conv</c> base).
/// </summary>
public abstract class BaseConv2D : Layer
{
    private protected BaseConv2D(string name, (int Height, int Width) kernelSize, (int Height, int Width)? strides, Padding padding,
                                 (int Height, int Width)? dilationRate, bool useBias, ActivationFunction? activation) : base(name)
    {
        KernelSize = kernelSize;
        Strides = strides ?? (1, 1);
        DilationRate = dilationRate ?? (1, 1);
        Padding = padding;
        UseBias = useBias;
        Activation = activation ?? ActivationFunction.Linear;
    }

    /// <summary>Kernel height and width.</summary>
    public (int Height, int Width) KernelSize { get; }
    /// <summary>Strides.</summary>
    public (int Height, int Width) Strides { get; }
    /// <summary>Dilation rate.</summary>
    public (int Height, int Width) DilationRate { get; }
    /// <summary>Keras padding mode.</summary>
    public Padding Padding { get; }
    /// <summary>Whether the layer has a bias.</summary>
    public bool UseBias { get; }
    /// <summary>The fused activation.</summary>
    public ActivationFunction Activation { get; }

    /// <summary>The Keras name of the kernel weight, whose dimension 2 is the input channels.</summary>
    private protected abstract string KernelName { get; }

    /// <summary>The output channels for <paramref name="inputChannels"/> input channels.</summary>
    private protected abstract long OutputChannels(int inputChannels);

    /// <inheritdoc/>
    /// <remarks>
    /// The window rule of every windowed layer applies: a 'valid' window must fit the input; a 'same' window may be
    /// larger than the input undilated (MobileNetV2's 3x3 depthwise on a 1x1 map), but a dilation of at least the input
    /// size (kernel &gt; 1) is refused, since at most one tap could reach the input; pads, padded extents, the output
    /// channels and the output must fit 32-bit sizes and memory.
    /// </remarks>
    /// <exception cref="LayerException">
    /// The input is not NHWC, has the wrong channel count, or the window does not fit it by the rule above; the message
    /// names the layer, the input, the kernel, the dilation and the padding.
    /// </exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleNhwc(inputShapes);
        ExpectBuiltChannels(input, KernelName, 2);
        var (h, w) = WindowArguments.OutputSize(this, input, KernelSize, Strides, DilationRate, Padding);
        return WindowArguments.Output(this, input.Batch, h, w, OutputChannels(input.Channels));
    }

    /// <summary>Writes a convolution's config: <paramref name="arguments"/> (its own) between the window arguments every
    /// convolution shares (kernel_size, strides, padding, dilation_rate) and the shared tail (data_format, activation, use_bias).</summary>
    private protected void WriteConfig(KerasConfigWriter config, Action<KerasConfigWriter> arguments)
    {
        config.Pair("kernel_size", KernelSize);
        config.Pair("strides", Strides);
        config.Padding(Padding);
        config.Pair("dilation_rate", DilationRate);
        arguments(config);
        config.ChannelsLast();
        config.Activation(Activation);
        config.Bool("use_bias", UseBias);
    }

    /// <summary>The explicit pads of the window over <paramref name="input"/>.</summary>
    private protected Padding2D Pads(TensorShape input) =>
        Padding2D.Resolve(Padding, input.Height, input.Width, KernelSize.Height, KernelSize.Width,
                          Strides.Height, Strides.Width, DilationRate.Height, DilationRate.Width);
}
