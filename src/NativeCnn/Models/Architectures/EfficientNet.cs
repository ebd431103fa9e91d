using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Weights.Pretrained;

namespace NativeCnn.Models.Architectures;

/// <summary>
/// Keras <c>keras.applications.EfficientNetB0</c>…<c>B7</c> (<c>keras/src/applications/efficientnet.py</c>): the same
/// layers, names, widths, paddings and epsilons, so Keras weights load by name.
/// </summary>
/// <remarks>
/// <para>
/// The stem is the one Keras 3 (and Keras 2.13.1+) builds with <c>weights="imagenet"</c>: <c>rescaling</c> (1/255),
/// <c>normalization</c> holding mean [0.485, 0.456, 0.406] and "variance" [0.229, 0.224, 0.225], then <c>rescaling_1</c>
/// multiplying by 1/sqrt([0.229, 0.224, 0.225]) (computed in double, rounded to float32).
/// </para>
/// <para>
/// The ImageNet weight files store the standard deviations as the Normalization variance, so Normalization alone divides
/// by sqrt(std); <c>rescaling_1</c> is Keras's fix (TF issue 49930), and the net effect is <c>(x/255 − mean)/std</c>.
/// The Normalization variance is therefore kept as the file stores it, [0.229, 0.224, 0.225], not the squares
/// [0.229², 0.224², 0.225²], so that weights loaded from Keras files give Keras's output.
/// </para>
/// </remarks>
public static class EfficientNet
{
    /// <summary>Keras's <c>DEFAULT_BLOCKS_ARGS</c>: the seven B0 stages.</summary>
    public static IReadOnlyList<MBConvBlockArgs> DefaultBlocks { get; } =
    [
        new(3, 1, 32, 16, 1, 1, 0.25),
        new(3, 2, 16, 24, 6, 2, 0.25),
        new(5, 2, 24, 40, 6, 2, 0.25),
        new(3, 3, 40, 80, 6, 2, 0.25),
        new(5, 3, 80, 112, 6, 1, 0.25),
        new(5, 4, 112, 192, 6, 2, 0.25),
        new(3, 1, 192, 320, 6, 1, 0.25),
    ];

    /// <summary>ImageNet mean that the <c>normalization</c> layer holds.</summary>
    public static IReadOnlyList<float> ImageNetMean { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet standard deviations, which Keras's files store as the <c>normalization</c> variance.</summary>
    public static IReadOnlyList<float> ImageNetStd { get; } = [0.229f, 0.224f, 0.225f];

    // Keras's EfficientNet() defaults.
    private const int DepthDivisor = 8;
    private const double DropConnectRate = 0.2;
    private const double BatchNormEpsilon = 1e-3;

    /// <summary>Keras <c>round_filters</c>: scales by the width coefficient and rounds to a multiple of 8, never down by more than 10%.</summary>
    public static int RoundFilters(int filters, double widthCoefficient, int divisor = DepthDivisor) =>
        ApplicationLayers.MakeDivisible(filters * widthCoefficient, divisor);

    /// <summary>Keras <c>round_repeats</c>: <c>ceil(depth · repeats)</c> in double (1.4·3 = 4.199… → 5).</summary>
    public static int RoundRepeats(int repeats, double depthCoefficient) => (int)Math.Ceiling(depthCoefficient * repeats);

    /// <summary>EfficientNetB0 (224).</summary>
    public static Model B0(ApplicationOptions? options = null) => Create(EfficientNetVariant.B0, options);
    /// <summary>EfficientNetB1 (240).</summary>
    public static Model B1(ApplicationOptions? options = null) => Create(EfficientNetVariant.B1, options);
    /// <summary>EfficientNetB2 (260).</summary>
    public static Model B2(ApplicationOptions? options = null) => Create(EfficientNetVariant.B2, options);
    /// <summary>EfficientNetB3 (300).</summary>
    public static Model B3(ApplicationOptions? options = null) => Create(EfficientNetVariant.B3, options);
    /// <summary>EfficientNetB4 (380).</summary>
    public static Model B4(ApplicationOptions? options = null) => Create(EfficientNetVariant.B4, options);
    /// <summary>EfficientNetB5 (456).</summary>
    public static Model B5(ApplicationOptions? options = null) => Create(EfficientNetVariant.B5, options);
    /// <summary>EfficientNetB6 (528).</summary>
    public static Model B6(ApplicationOptions? options = null) => Create(EfficientNetVariant.B6, options);
    /// <summary>EfficientNetB7 (600).</summary>
    public static Model B7(ApplicationOptions? options = null) => Create(EfficientNetVariant.B7, options);

    /// <summary>Builds an EfficientNet with these coefficients and the default blocks.</summary>
    /// <exception cref="ArgumentException">The variant or the options are invalid.</exception>
    public static Model Create(EfficientNetVariant variant, ApplicationOptions? options = null) => Create(variant, DefaultBlocks, options);

    /// <summary>Builds an EfficientNet with these coefficients and stages (Keras's <c>blocks_args</c>).</summary>
    /// <exception cref="ArgumentException">The variant, the blocks or the options are invalid.</exception>
    public static Model Create(EfficientNetVariant variant, IReadOnlyList<MBConvBlockArgs> blocks, ApplicationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(variant);
        ArgumentNullException.ThrowIfNull(blocks);
        options ??= new ApplicationOptions();
        variant.Validate();
        options.Validate();
        options.RejectAlpha(variant.Name);
        ValidateBlocks(blocks);
        if (options.IncludePreprocessing && options.InputChannels != ImageNetMean.Count)
            throw new ArgumentException($"{variant.Name}: the preprocessing normalizes 3 channels, got InputChannels = {options.InputChannels}; set IncludePreprocessing = false.", nameof(options));

        var swish = ActivationFunction.Swish;
        int RoundF(int filters) => RoundFilters(filters, variant.Width);
        int RoundR(int repeats) => RoundRepeats(repeats, variant.Depth);

        int resolution = options.ResolutionOr(variant.Resolution);
        var input = ApplicationLayers.Input(options, resolution);
        var x = input;
        if (options.IncludePreprocessing)
        {
            x = new Rescaling("rescaling", (float)(1.0 / 255)).Call(x);
            x = new Normalization("normalization", [.. ImageNetMean], [.. ImageNetStd]).Call(x);
            x = new Rescaling("rescaling_1", [.. ImageNetStd.Select(s => (float)(1.0 / Math.Sqrt(s)))], [0f]).Call(x);
        }

        x = new ZeroPadding2D("stem_conv_pad", ApplicationLayers.CorrectPad(x.OutputShape.Height, x.OutputShape.Width, 3)).Call(x);
        x = new Conv2D("stem_conv", RoundF(32), 3, 2, Padding.Valid, useBias: false).Call(x);
        x = new BatchNormalization("stem_bn", BatchNormEpsilon).Call(x);
        x = ApplicationLayers.Activate(x, "stem_activation", swish);

        x = EfficientNetBlocks.Stages(x, blocks.Count,
            i => (RoundF(blocks[i].FiltersIn), RoundF(blocks[i].FiltersOut), blocks[i].Strides, RoundR(blocks[i].Repeats)),
            DropConnectRate, totalBlocks: blocks.Sum(b => RoundR(b.Repeats)),
            (x, i, prefix, filtersIn, filtersOut, strides, dropRate) =>
                Block(x, prefix, filtersIn, filtersOut, blocks[i].KernelSize, strides, blocks[i].ExpandRatio, blocks[i].SeRatio, dropRate));

        x = new Conv2D("top_conv", RoundF(1280), 1, 1, Padding.Same, useBias: false).Call(x);
        x = new BatchNormalization("top_bn", BatchNormEpsilon).Call(x);
        x = ApplicationLayers.Activate(x, "top_activation", swish);
        x = ApplicationLayers.Top(x, options, "avg_pool", "max_pool", variant.Dropout);
        return ApplicationWeights.Load(new Model(variant.Name, input, x), options);
    }

    // Keras's block(): inverted bottleneck with squeeze-and-excitation.
    private static Node Block(Node inputs, string prefix, int filtersIn, int filtersOut, int kernelSize, int strides,
                              int expandRatio, double seRatio, double dropRate)
    {
        var swish = ActivationFunction.Swish;
        int filters = filtersIn * expandRatio;
        var x = inputs;
        if (expandRatio != 1)
        {
            x = new Conv2D(prefix + "expand_conv", filters, 1, 1, Padding.Same, useBias: false).Call(x);
            x = new BatchNormalization(prefix + "expand_bn", BatchNormEpsilon).Call(x);
            x = ApplicationLayers.Activate(x, prefix + "expand_activation", swish);
        }

        var padding = Padding.Same;
        if (strides == 2)
        {
            x = new ZeroPadding2D(prefix + "dwconv_pad", ApplicationLayers.CorrectPad(x.OutputShape.Height, x.OutputShape.Width, kernelSize)).Call(x);
            padding = Padding.Valid;
        }
        x = new DepthwiseConv2D(prefix + "dwconv", kernelSize, strides, padding, useBias: false).Call(x);
        x = new BatchNormalization(prefix + "bn", BatchNormEpsilon).Call(x);
        x = ApplicationLayers.Activate(x, prefix + "activation", swish);

        x = EfficientNetBlocks.SqueezeExcite(x, prefix, filtersIn, filters, seRatio);
        x = new Conv2D(prefix + "project_conv", filtersOut, 1, 1, Padding.Same, useBias: false).Call(x);
        x = new BatchNormalization(prefix + "project_bn", BatchNormEpsilon).Call(x);
        return EfficientNetBlocks.Residual(x, inputs, prefix, filtersIn, filtersOut, strides, dropRate);
    }

    private static void ValidateBlocks(IReadOnlyList<MBConvBlockArgs> blocks)
    {
        if (blocks.Count == 0) throw new ArgumentException("EfficientNet needs at least one stage.", nameof(blocks));
        foreach (var b in blocks)
        {
            if (b.KernelSize < 1 || b.Repeats < 1 || b.FiltersIn < 1 || b.FiltersOut < 1 || b.ExpandRatio < 1 || b.Strides is not (1 or 2) || !(b.SeRatio is >= 0 and <= 1))
                throw new ArgumentException($"Invalid EfficientNet stage {b}: sizes must be positive, strides 1 or 2 and se_ratio in [0, 1].", nameof(blocks));
        }
    }
}
