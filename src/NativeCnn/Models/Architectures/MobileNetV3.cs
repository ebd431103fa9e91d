using NativeCnn.Weights.Pretrained;
using NativeCnn.Backends;
using NativeCnn.Layers;

namespace NativeCnn.Models.Architectures;

/// <summary>
/// Keras <c>keras.applications.MobileNetV3Small</c> and <c>MobileNetV3Large</c>
/// (<c>keras/src/applications/mobilenet_v3.py</c>): the same layers, names, widths and paddings, so Keras weights load by
/// name. With <see cref="ApplicationOptions.IncludePreprocessing"/> (Keras's <c>include_preprocessing</c>, the default)
/// the model takes RGB in [0, 255] and scales it to [-1, 1] itself.
/// </summary>
/// <remarks>
/// <para>
/// Keras builds the squeeze-and-excitation gate's hard sigmoid from tensor operators,
/// <c>layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)</c>, which Keras 3 records as unnamed <c>add</c> and <c>multiply</c>
/// operations around an unnamed <c>re_lu</c>. Here they are weightless layers with the names Keras gives them in a fresh
/// session: <c>add</c> is a <see cref="Rescaling"/> by 1 with offset 3, <c>re_lu_N</c> a <see cref="ReLU"/> with maximum 6
/// and <c>multiply</c> a <see cref="Rescaling"/> by (float)(1/6); both rescalings are exact in float32, as the sum and
/// the product they replace. Hard-swish is Keras 3's <c>Activation("hard_swish")</c> (<c>activation</c>,
/// <c>activation_1</c>, …) and the plain ReLUs are unnamed <c>ReLU()</c> layers (<c>re_lu</c>, …), named in the order
/// Keras creates them.
/// </para>
/// <para>
/// Every BatchNormalization has epsilon 1e-3 (Keras's momentum 0.999 only matters for training). Stride-2 depthwise
/// convolutions pad with <c>correct_pad</c> for the known input size (<c>expanded_conv_N_depthwise_pad</c>). The stem
/// <c>conv</c> has 16 filters whatever the width; the top is <c>conv_2</c> (1024 or 1280 filters, with bias) and
/// <c>logits</c>, 1×1 convolutions on the kept-dims average.
/// </para>
/// </remarks>
public static class MobileNetV3
{
    private const double BatchNormEpsilon = 1e-3;
    // Keras's momentum for this family's BatchNormalization (the moving-average rate of training).
    private const double BatchNormMomentum = 0.999;
    private const int DefaultResolution = 224;

    /// <summary>Keras's <c>dropout_rate</c> default, before <c>logits</c>.</summary>
    public const double DropoutRate = 0.2;

    /// <summary>
    /// One <c>_inverted_res_block</c> call of a Keras <c>stack_fn</c>. <paramref name="FamilyKernel"/>: the block uses the
    /// variant's kernel (5, or 3 when minimalistic) instead of 3; <paramref name="SqueezeExcite"/>: it gets the variant's
    /// SE ratio (0.25, none when minimalistic); <paramref name="FamilyActivation"/>: it uses the variant's activation
    /// (hard-swish, ReLU when minimalistic) instead of ReLU.
    /// </summary>
    private readonly record struct Block(double Expansion, int Filters, bool FamilyKernel, int Stride, bool SqueezeExcite, bool FamilyActivation);

    // MobileNetV3Small's stack_fn, block_id = index.
    private static readonly Block[] s_small =
    [
        new(Expansion: 1, Filters: 16, FamilyKernel: false, Stride: 2, SqueezeExcite: true, FamilyActivation: false),
        new(Expansion: 72.0 / 16, Filters: 24, FamilyKernel: false, Stride: 2, SqueezeExcite: false, FamilyActivation: false),
        new(Expansion: 88.0 / 24, Filters: 24, FamilyKernel: false, Stride: 1, SqueezeExcite: false, FamilyActivation: false),
        new(Expansion: 4, Filters: 40, FamilyKernel: true, Stride: 2, SqueezeExcite: true, FamilyActivation: true),
        new(Expansion: 6, Filters: 40, FamilyKernel: true, Stride: 1, SqueezeExcite: true, FamilyActivation: true),
        new(Expansion: 6, Filters: 40, FamilyKernel: true, Stride: 1, SqueezeExcite: true, FamilyActivation: true),
        new(Expansion: 3, Filters: 48, FamilyKernel: true, Stride: 1, SqueezeExcite: true, FamilyActivation: true),
        new(Expansion: 3, Filters: 48, FamilyKernel: true, Stride: 1, SqueezeExcite: true, FamilyActivation: true),
        new(Expansion: 6, Filters: 96, FamilyKernel: true, Stride: 2, SqueezeExcite: true, FamilyActivation: true),
        new(Expansion: 6, Filters: 96, FamilyKernel: true, Stride: 1, SqueezeExcite: true, FamilyActivation: true),
        new(Expansion: 6, Filters: 96, FamilyKernel: true, Stride: 1, SqueezeExcite: true, FamilyActivation: true),
    ];

    // MobileNetV3Large's stack_fn, block_id = index.
    private static readonly Block[] s_large =
    [
        new(Expansion: 1, Filters: 16, FamilyKernel: false, Stride: 1, SqueezeExcite: false, FamilyActivation: false),
        new(Expansion: 4, Filters: 24, FamilyKernel: false, Stride: 2, SqueezeExcite: false, FamilyActivation: false),
        new(Expansion: 3, Filters: 24, FamilyKernel: false, Stride: 1, SqueezeExcite: false, FamilyActivation: false),
        new(Expansion: 3, Filters: 40, FamilyKernel: true, Stride: 2, SqueezeExcite: true, FamilyActivation: false),
        new(Expansion: 3, Filters: 40, FamilyKernel: true, Stride: 1, SqueezeExcite: true, FamilyActivation: false),
        new(Expansion: 3, Filters: 40, FamilyKernel: true, Stride: 1, SqueezeExcite: true, FamilyActivation: false),
        new(Expansion: 6, Filters: 80, FamilyKernel: false, Stride: 2, SqueezeExcite: false, FamilyActivation: true),
        new(Expansion: 2.5, Filters: 80, FamilyKernel: false, Stride: 1, SqueezeExcite: false, FamilyActivation: true),
        new(Expansion: 2.3, Filters: 80, FamilyKernel: false, Stride: 1, SqueezeExcite: false, FamilyActivation: true),
        new(Expansion: 2.3, Filters: 80, FamilyKernel: false, Stride: 1, SqueezeExcite: false, FamilyActivation: true),
        new(Expansion: 6, Filters: 112, FamilyKernel: false, Stride: 1, SqueezeExcite: true, FamilyActivation: true),
        new(Expansion: 6, Filters: 112, FamilyKernel: false, Stride: 1, SqueezeExcite: true, FamilyActivation: true),
        new(Expansion: 6, Filters: 160, FamilyKernel: true, Stride: 2, SqueezeExcite: true, FamilyActivation: true),
        new(Expansion: 6, Filters: 160, FamilyKernel: true, Stride: 1, SqueezeExcite: true, FamilyActivation: true),
        new(Expansion: 6, Filters: 160, FamilyKernel: true, Stride: 1, SqueezeExcite: true, FamilyActivation: true),
    ];

    /// <summary>Keras <c>_depth</c>: rounds to the nearest multiple of <paramref name="divisor"/>, never down by more than 10%.</summary>
    public static int Depth(double value, int divisor = 8) => ApplicationLayers.MakeDivisible(value, divisor);

    /// <summary>Builds <c>MobileNetV3Small</c> (model name <c>MobileNetV3Small</c>, last point-wise width 1024).</summary>
    /// <exception cref="ArgumentException">The options are invalid (alpha not a published width, resolution below 32, …).</exception>
    public static Model Small(ApplicationOptions? options = null) => Create("MobileNetV3Small", s_small, 1024, options);

    /// <summary>Builds <c>MobileNetV3Large</c> (model name <c>MobileNetV3Large</c>, last point-wise width 1280).</summary>
    /// <exception cref="ArgumentException">The options are invalid (alpha not a published width, resolution below 32, …).</exception>
    public static Model Large(ApplicationOptions? options = null) => Create("MobileNetV3Large", s_large, 1280, options);

    private static Model Create(string name, Block[] blocks, int lastPointChannels, ApplicationOptions? options)
    {
        options ??= new ApplicationOptions();
        options.Validate();
        options.ValidateMobileNetV3Alpha();
        options.RejectDepthMultiplier(name);
        double alpha = options.Alpha;
        bool minimalistic = options.Minimalistic;
        int familyKernel = minimalistic ? 3 : 5;
        var builder = new Builder(minimalistic);

        var input = ApplicationLayers.Input(options, options.ResolutionOr(DefaultResolution));
        var x = input;
        // Keras casts the Python scale and offset to float32.
        if (options.IncludePreprocessing) x = new Rescaling("rescaling", (float)(1.0 / 127.5), -1f).Call(x);
        x = new Conv2D("conv", 16, 3, 2, Padding.Same, useBias: false).Call(x);
        x = new BatchNormalization("conv_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
        x = builder.FamilyActivation(x);

        for (int id = 0; id < blocks.Length; id++)
        {
            var b = blocks[id];
            x = builder.InvertedResidualBlock(x, b.Expansion, Depth(b.Filters * alpha), b.FamilyKernel ? familyKernel : 3, b.Stride,
                                              b.SqueezeExcite && !minimalistic, b.FamilyActivation, id);
        }

        int lastConvChannels = Depth(x.OutputShape.Channels * 6);
        // Only a width above 1 widens the last point-wise convolution.
        if (alpha > 1.0) lastPointChannels = Depth(lastPointChannels * alpha);
        x = new Conv2D("conv_1", lastConvChannels, 1, 1, Padding.Same, useBias: false).Call(x);
        x = new BatchNormalization("conv_1_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
        x = builder.FamilyActivation(x);

        if (options.IncludeTop)
        {
            x = new GlobalAveragePooling2D(builder.Names.Next("global_average_pooling2d"), keepDims: true).Call(x);
            x = new Conv2D("conv_2", lastPointChannels, 1, 1, Padding.Same).Call(x);
            x = builder.FamilyActivation(x);
            x = new Dropout(builder.Names.Next("dropout"), DropoutRate).Call(x);
            x = new Conv2D("logits", options.Classes, 1, 1, Padding.Same).Call(x);
            x = new Flatten(builder.Names.Next("flatten")).Call(x);
            x = ApplicationLayers.Activate(x, "predictions", options.GetClassifierActivation());
        }
        else
        {
            x = ApplicationLayers.Top(x, options, "avg_pool", "max_pool");
        }
        return ApplicationWeights.Load(new Model(name, input, x), options);
    }

    // Holds the auto-name counters of one model, so that unnamed layers are named in Keras's creation order.
    private sealed class Builder(bool minimalistic)
    {
        public KerasAutoNames Names { get; } = new();

        // Keras's relu(x): an unnamed layers.ReLU().
        public Node Relu(Node x) => new ReLU(Names.Next("re_lu")).Call(x);

        // The variant's activation: hard_swish(x), an unnamed Activation("hard_swish"), or relu(x) when minimalistic.
        public Node FamilyActivation(Node x) =>
            minimalistic ? Relu(x) : ApplicationLayers.Activate(x, Names.Next("activation"), ActivationFunction.HardSwish);

        // Keras's hard_sigmoid(x) = layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0), one weightless layer per operation.
        public Node HardSigmoid(Node x)
        {
            x = new Rescaling(Names.Next("add"), 1f, 3f).Call(x);
            x = new ReLU(Names.Next("re_lu"), 6f).Call(x);
            return new Rescaling(Names.Next("multiply"), (float)(1.0 / 6.0)).Call(x);
        }

        // Keras's _se_block: the gate's widths come from the expanded width.
        private Node SqueezeExcite(Node inputs, int filters, string prefix)
        {
            var x = new GlobalAveragePooling2D(prefix + "squeeze_excite_avg_pool", keepDims: true).Call(inputs);
            x = new Conv2D(prefix + "squeeze_excite_conv", Depth(filters * 0.25), 1, 1, Padding.Same).Call(x);
            x = new ReLU(prefix + "squeeze_excite_relu").Call(x);
            x = new Conv2D(prefix + "squeeze_excite_conv_1", filters, 1, 1, Padding.Same).Call(x);
            x = HardSigmoid(x);
            return new Multiply(prefix + "squeeze_excite_mul").Call(inputs, x);
        }

        // Keras's _inverted_res_block.
        public Node InvertedResidualBlock(Node inputs, double expansion, int filters, int kernelSize, int stride,
                                          bool squeezeExcite, bool familyActivation, int blockId)
        {
            Node Act(Node t) => familyActivation ? FamilyActivation(t) : Relu(t);
            int inFilters = inputs.OutputShape.Channels;
            // In double, as Python computes infilters * expansion (72.0 / 16 etc.).
            int expanded = Depth(inFilters * expansion);
            string prefix = "expanded_conv_";
            var x = inputs;
            if (blockId > 0)
            {
                prefix = $"expanded_conv_{blockId}_";
                x = new Conv2D(prefix + "expand", expanded, 1, 1, Padding.Same, useBias: false).Call(x);
                x = new BatchNormalization(prefix + "expand_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
                x = Act(x);
            }
            if (stride == 2)
                x = new ZeroPadding2D(prefix + "depthwise_pad", ApplicationLayers.CorrectPad(x.OutputShape.Height, x.OutputShape.Width, kernelSize)).Call(x);
            x = new DepthwiseConv2D(prefix + "depthwise", kernelSize, stride, stride == 1 ? Padding.Same : Padding.Valid, useBias: false).Call(x);
            x = new BatchNormalization(prefix + "depthwise_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
            x = Act(x);
            if (squeezeExcite) x = SqueezeExcite(x, expanded, prefix);
            x = new Conv2D(prefix + "project", filters, 1, 1, Padding.Same, useBias: false).Call(x);
            x = new BatchNormalization(prefix + "project_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
            if (stride == 1 && inFilters == filters) x = new Add(prefix + "add").Call(inputs, x);
            return x;
        }
    }
}
