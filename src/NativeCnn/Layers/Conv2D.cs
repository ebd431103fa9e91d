using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>Conv2D</c>: NHWC 2-D convolution with an HWIO <c>kernel</c> and an optional <c>bias</c>.</summary>
public sealed class Conv2D : Layer
{
    /// <summary>Creates the layer; arguments as Keras's.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size, stride or dilation is less than 1.</exception>
    public Conv2D(string name, int filters, (int Height, int Width) kernelSize, (int Height, int Width)? strides = null,
                  Padding padding = Padding.Valid, (int Height, int Width)? dilationRate = null, bool useBias = true,
                  ActivationFunction? activation = null) : base(name)
    {
        Filters = filters;
        KernelSize = kernelSize;
        Strides = strides ?? (1, 1);
        DilationRate = dilationRate ?? (1, 1);
        Padding = padding;
        UseBias = useBias;
        Activation = activation ?? ActivationFunction.Linear;
        if (filters < 1) throw new ArgumentOutOfRangeException(nameof(filters), $"{name}: filters must be at least 1, got {filters}.");
        WindowArguments.Validate(name, KernelSize, Strides, DilationRate);
        if (!Activation.IsElementwise) throw new ArgumentException($"{name}: a convolution cannot fuse {Activation}.", nameof(activation));
    }

    /// <summary>Creates a layer with a square kernel and stride.</summary>
    public Conv2D(string name, int filters, int kernelSize, int strides = 1, Padding padding = Padding.Valid,
                  bool useBias = true, ActivationFunction? activation = null)
        : this(name, filters, (kernelSize, kernelSize), (strides, strides), padding, null, useBias, activation) { }

    /// <summary>Output channels.</summary>
    public int Filters { get; }
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

    /// <inheritdoc/>
    /// <remarks>
    /// The window rule of every windowed layer applies: a 'valid' window must fit the input; a 'same' window may be
    /// larger than the input undilated, but a dilation of at least the input size (kernel &gt; 1) is refused, since at
    /// most one tap could reach the input; pads, padded extents and the output must fit 32-bit sizes and memory.
    /// </remarks>
    /// <exception cref="LayerException">
    /// The input is not NHWC, has the wrong channel count, or the window does not fit it by the rule above; the message
    /// names the layer, the input, the kernel, the dilation and the padding.
    /// </exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleNhwc(inputShapes);
        ExpectBuiltChannels(input, "kernel", 2);
        var (h, w) = WindowArguments.OutputSize(this, input, KernelSize, Strides, DilationRate, Padding);
        return WindowArguments.Output(this, input.Batch, h, w, Filters);
    }

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes)
    {
        AddWeight("kernel", new TensorShape(KernelSize.Height, KernelSize.Width, inputShapes[0].Channels, Filters), Initializer.GlorotUniform);
        if (UseBias) AddWeight("bias", new TensorShape(Filters), Initializer.Zeros);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = inputShapes[0];
        var pads = Padding2D.Resolve(Padding, input.Height, input.Width, KernelSize.Height, KernelSize.Width,
                                     Strides.Height, Strides.Width, DilationRate.Height, DilationRate.Width);
        return new Conv2DOp(KernelSize.Height, KernelSize.Width, Strides.Height, Strides.Width,
                            DilationRate.Height, DilationRate.Width, pads, Filters, UseBias, Activation);
    }

    /// <inheritdoc/>
    public override long CountMultiplyAccumulates(IReadOnlyList<TensorShape> inputShapes, TensorShape outputShape) =>
        WindowArguments.MultiplyAccumulates(outputShape.ElementCount, KernelSize.Height, KernelSize.Width, inputShapes[0].Channels);

    /// <inheritdoc/>
    public override string Describe() =>
        $"Conv2D {KernelSize.Height}x{KernelSize.Width}/{Strides.Height} {Padding.ToString().ToLowerInvariant()} f={Filters}{(Activation.Kind == ActivationKind.Linear ? "" : " " + Activation)}";

    /// <summary>The Keras config form of <c>Conv2D</c>: filters, kernel_size, strides, padding, dilation_rate, activation, use_bias; groups other than 1 is refused (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Conv2D>("Conv2D",
        read: c =>
        {
            if (c.Int("groups", 1) != 1) throw c.Unsupported("groups other than 1");
            return new Conv2D(c.LayerName, c.Int("filters"), c.Pair("kernel_size"), c.Pair("strides", 1), c.Padding(),
                              c.Pair("dilation_rate", 1), c.Bool("use_bias", true), c.Activation());
        },
        write: (layer, c) =>
        {
            c.Int("filters", layer.Filters);
            c.Pair("kernel_size", layer.KernelSize);
            c.Pair("strides", layer.Strides);
            c.Padding(layer.Padding);
            c.Pair("dilation_rate", layer.DilationRate);
            c.ChannelsLast();
            c.Int("groups", 1);
            c.Activation(layer.Activation);
            c.Bool("use_bias", layer.UseBias);
        },
        weightNames: ["kernel", "bias"]);
}
