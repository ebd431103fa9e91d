using NativeCnn.Weights.Pretrained;
using NativeCnn.Backends;
using NativeCnn.Layers;

namespace NativeCnn.Models.Architectures;

/// <summary>
/// Keras <c>keras.applications.EfficientNetV2B0</c> … <c>B3</c>, <c>S</c>, <c>M</c>, <c>L</c>
/// (<c>keras/src/applications/efficientnet_v2.py</c>): the same layers, names, widths, paddings and epsilons, so Keras
/// weights load by name.
/// </summary>
/// <remarks>
/// <para>
/// Differences from <see cref="EfficientNet"/> (V1) that Keras makes and this builder copies: the first stages are
/// Fused-MBConv blocks (one k×k <c>expand_conv</c> instead of 1×1 + depthwise); every convolution, the stem and the
/// stride-2 depthwise ones included, pads <c>'same'</c> itself (no <c>*_pad</c> layers); the depthwise layer is named
/// <c>dwconv2</c>; <see cref="RoundFilters"/> has no "never round down by more than 10%" rule; the drop-connect rate
/// divides by the sum of the unscaled repeats; <c>top_dropout</c> is 0.2 for every variant.
/// </para>
/// <para>
/// Preprocessing (<see cref="ApplicationOptions.IncludePreprocessing"/>): the B variants with 3 input channels get
/// <c>rescaling</c> (1/255) and <c>normalization</c> with mean [0.485, 0.456, 0.406] and variance
/// [0.229², 0.224², 0.225²], i.e. <c>(x/255 − mean)/std</c>; S, M, L (and B with other channel counts) get
/// <c>rescaling</c> with scale 1/128 and offset −1.
/// </para>
/// <para>
/// Keras's <c>Normalization(mean=..., variance=...)</c> holds its statistics as constants, not weights, so it has no
/// parameters and the weight files have no entry for it: the builder emits <see cref="Normalization.Constant"/>.
/// Every BatchNormalization has Keras's momentum 0.9 (V1: 0.99) and epsilon 1e-3; the drop-connect <c>Dropout</c>
/// layers have Keras's rates and <c>noise_shape=(None, 1, 1, 1)</c> (identity at inference, one draw per image in training).
/// </para>
/// </remarks>
public static class EfficientNetV2
{
    /// <summary>ImageNet mean of the B variants' <c>normalization</c>.</summary>
    public static IReadOnlyList<double> ImageNetMean { get; } = [0.485, 0.456, 0.406];

    /// <summary>ImageNet variance of the B variants' <c>normalization</c>: the squared standard deviations, as Keras writes them.</summary>
    public static IReadOnlyList<double> ImageNetVariance { get; } = [0.229 * 0.229, 0.224 * 0.224, 0.225 * 0.225];

    // Keras's EfficientNetV2() defaults.
    private const int DepthDivisor = 8;
    private const int MinDepth = 8;
    private const double DropConnectRate = 0.2;
    private const double DropoutRate = 0.2;
    private const double BatchNormEpsilon = 1e-3;
    // Keras's momentum for this family's BatchNormalization (the moving-average rate of training).
    private const double BatchNormMomentum = 0.9;
    private const int TopFilters = 1280;

    /// <summary>
    /// Keras V2 <c>round_filters</c>: <c>max(min_depth, int(filters·width + divisor/2) // divisor · divisor)</c>. Unlike
    /// V1's it never adds a divisor back when rounding down by more than 10% (with that rule B3 would have 14,486,374
    /// parameters instead of 14,467,622).
    /// </summary>
    public static int RoundFilters(int filters, double widthCoefficient, int divisor = DepthDivisor, int minDepth = MinDepth)
    {
        double scaled = filters * widthCoefficient;
        // Python's int() truncates; the values are positive, so floor is the same.
        return Math.Max(minDepth, (int)Math.Floor(scaled + divisor / 2.0) / divisor * divisor);
    }

    /// <summary>EfficientNetV2B0 (224).</summary>
    public static Model B0(ApplicationOptions? options = null) => Create(EfficientNetV2Variant.B0, options);
    /// <summary>EfficientNetV2B1 (240).</summary>
    public static Model B1(ApplicationOptions? options = null) => Create(EfficientNetV2Variant.B1, options);
    /// <summary>EfficientNetV2B2 (260).</summary>
    public static Model B2(ApplicationOptions? options = null) => Create(EfficientNetV2Variant.B2, options);
    /// <summary>EfficientNetV2B3 (300).</summary>
    public static Model B3(ApplicationOptions? options = null) => Create(EfficientNetV2Variant.B3, options);
    /// <summary>EfficientNetV2S (384).</summary>
    public static Model S(ApplicationOptions? options = null) => Create(EfficientNetV2Variant.S, options);
    /// <summary>EfficientNetV2M (480).</summary>
    public static Model M(ApplicationOptions? options = null) => Create(EfficientNetV2Variant.M, options);
    /// <summary>EfficientNetV2L (480).</summary>
    public static Model L(ApplicationOptions? options = null) => Create(EfficientNetV2Variant.L, options);

    /// <summary>Builds the EfficientNetV2 that <paramref name="variant"/> describes (Keras's <c>EfficientNetV2(...)</c>).</summary>
    /// <exception cref="ArgumentException">The variant or the options are invalid.</exception>
    public static Model Create(EfficientNetV2Variant variant, ApplicationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(variant);
        options ??= new ApplicationOptions();
        variant.Validate();
        options.Validate();
        options.RejectAlpha(variant.Name);

        var swish = ActivationFunction.Swish;
        int RoundF(int filters) => RoundFilters(filters, variant.Width);

        int resolution = options.ResolutionOr(variant.Resolution);
        var input = ApplicationLayers.Input(options, resolution);
        var x = input;
        if (options.IncludePreprocessing)
        {
            if (variant.ImageNetNormalization && options.InputChannels == ImageNetMean.Count)
            {
                x = new Rescaling("rescaling", (float)(1.0 / 255)).Call(x);
                x = Normalization.Constant("normalization", ImageNetMean.Select(m => (float)m).ToArray(), ImageNetVariance.Select(v => (float)v).ToArray()).Call(x);
            }
            else
            {
                x = new Rescaling("rescaling", (float)(1.0 / 128), -1f).Call(x);
            }
        }

        x = new Conv2D("stem_conv", RoundF(variant.Blocks[0].FiltersIn), 3, 2, Padding.Same, useBias: false).Call(x);
        x = new BatchNormalization("stem_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
        x = ApplicationLayers.Activate(x, "stem_activation", swish);

        // Keras: blocks = float(sum(args["num_repeat"] ...)), the repeats before depth scaling, so for B1..B3 the
        // last blocks' rates exceed 0.2.
        var stages = variant.Blocks;
        x = EfficientNetBlocks.Stages(x, stages.Count,
            i => (RoundF(stages[i].FiltersIn), RoundF(stages[i].FiltersOut), stages[i].Strides, EfficientNet.RoundRepeats(stages[i].Repeats, variant.Depth)),
            DropConnectRate, totalBlocks: stages.Sum(b => b.Repeats),
            (x, i, prefix, filtersIn, filtersOut, strides, dropRate) => stages[i].Fused
                ? FusedMBConvBlock(x, prefix, filtersIn, filtersOut, stages[i].KernelSize, strides, stages[i].ExpandRatio, stages[i].SeRatio, dropRate)
                : MBConvBlock(x, prefix, filtersIn, filtersOut, stages[i].KernelSize, strides, stages[i].ExpandRatio, stages[i].SeRatio, dropRate));

        x = new Conv2D("top_conv", RoundF(TopFilters), 1, 1, Padding.Same, useBias: false).Call(x);
        x = new BatchNormalization("top_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
        x = ApplicationLayers.Activate(x, "top_activation", swish);
        x = ApplicationLayers.Top(x, options, "avg_pool", "max_pool", DropoutRate);
        return ApplicationWeights.Load(new Model(variant.Name, input, x), options);
    }

    // Keras's MBConvBlock: 1×1 expansion, depthwise k×k ('same' at every stride), squeeze-and-excitation, 1×1 projection.
    private static Node MBConvBlock(Node inputs, string prefix, int filtersIn, int filtersOut, int kernelSize, int strides,
                                    int expandRatio, double seRatio, double dropRate)
    {
        int filters = filtersIn * expandRatio;
        var x = inputs;
        if (expandRatio != 1)
        {
            x = new Conv2D(prefix + "expand_conv", filters, 1, 1, Padding.Same, useBias: false).Call(x);
            x = new BatchNormalization(prefix + "expand_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
            x = ApplicationLayers.Activate(x, prefix + "expand_activation", ActivationFunction.Swish);
        }
        x = new DepthwiseConv2D(prefix + "dwconv2", kernelSize, strides, Padding.Same, useBias: false).Call(x);
        x = new BatchNormalization(prefix + "bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
        x = ApplicationLayers.Activate(x, prefix + "activation", ActivationFunction.Swish);
        x = EfficientNetBlocks.SqueezeExcite(x, prefix, filtersIn, filters, seRatio);
        x = new Conv2D(prefix + "project_conv", filtersOut, 1, 1, Padding.Same, useBias: false).Call(x);
        x = new BatchNormalization(prefix + "project_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
        return EfficientNetBlocks.Residual(x, inputs, prefix, filtersIn, filtersOut, strides, dropRate);
    }

    // Keras's FusedMBConvBlock: the expansion and the depthwise conv fused into one k×k conv. Without expansion the
    // project_conv itself is the k×k, strided conv and is followed by an activation.
    private static Node FusedMBConvBlock(Node inputs, string prefix, int filtersIn, int filtersOut, int kernelSize, int strides,
                                         int expandRatio, double seRatio, double dropRate)
    {
        int filters = filtersIn * expandRatio;
        var x = inputs;
        if (expandRatio != 1)
        {
            x = new Conv2D(prefix + "expand_conv", filters, kernelSize, strides, Padding.Same, useBias: false).Call(x);
            x = new BatchNormalization(prefix + "expand_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
            x = ApplicationLayers.Activate(x, prefix + "expand_activation", ActivationFunction.Swish);
        }
        x = EfficientNetBlocks.SqueezeExcite(x, prefix, filtersIn, filters, seRatio);
        bool expanded = expandRatio != 1;
        x = new Conv2D(prefix + "project_conv", filtersOut, expanded ? 1 : kernelSize, expanded ? 1 : strides, Padding.Same, useBias: false).Call(x);
        x = new BatchNormalization(prefix + "project_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
        if (!expanded) x = ApplicationLayers.Activate(x, prefix + "project_activation", ActivationFunction.Swish);
        return EfficientNetBlocks.Residual(x, inputs, prefix, filtersIn, filtersOut, strides, dropRate);
    }
}
