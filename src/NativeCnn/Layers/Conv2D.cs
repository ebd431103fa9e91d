using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>Conv2D</c>: NHWC 2-D convolution with an HWIO <c>kernel</c> and an optional <c>bias</c>.</summary>
public sealed class Conv2D : BaseConv2D
{
    /// <summary>Creates the layer; arguments as Keras's.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size, stride or dilation is less than 1.</exception>
    public Conv2D(string name, int filters, (int Height, int Width) kernelSize, (int Height, int Width)? strides = null,
                  Padding padding = Padding.Valid, (int Height, int Width)? dilationRate = null, bool useBias = true,
                  ActivationFunction? activation = null)
        : base(name, kernelSize, strides, padding, dilationRate, useBias, activation)
    {
        Filters = filters;
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

    private protected override string KernelName => "kernel";

    private protected override long OutputChannels(int inputChannels) => Filters;

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes)
    {
        AddWeight("kernel", new TensorShape(KernelSize.Height, KernelSize.Width, inputShapes[0].Channels, Filters), Initializer.GlorotUniform);
        if (UseBias) AddWeight("bias", new TensorShape(Filters), Initializer.Zeros);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes)
    {
        var pads = Pads(inputShapes[0]);
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
            layer.WriteConfig(c, c => c.Int("groups", 1));
        },
        weightNames: ["kernel", "bias"]);
}
