namespace NativeCnn.Models.Architectures;

/// <summary>
/// An EfficientNetV2 model: the arguments that Keras's <c>EfficientNetV2B0</c> … <c>EfficientNetV2L</c> pass to
/// <c>EfficientNetV2(width_coefficient, depth_coefficient, default_size, model_name=...)</c>, with the stage table that
/// <c>DEFAULT_BLOCKS_ARGS[model_name]</c> selects. B0..B3, S, M and L are Keras's; any other values give a custom variant.
/// </summary>
/// <param name="Name">The Keras model name, e.g. <c>efficientnetv2-b0</c>.</param>
/// <param name="Width">Width coefficient (channel multiplier before <see cref="EfficientNetV2.RoundFilters"/>).</param>
/// <param name="Depth">Depth coefficient (block-repeat multiplier, rounded up by <see cref="EfficientNet.RoundRepeats"/>).</param>
/// <param name="Resolution">Default square input size (Keras's <c>default_size</c>).</param>
/// <param name="Blocks">The stages before scaling (Keras's <c>blocks_args</c>).</param>
/// <param name="ImageNetNormalization">
/// The in-model preprocessing: <c>true</c> for V1's ImageNet mean/std normalization of [0, 255] RGB, <c>false</c> for
/// <c>x / 128 − 1</c>. Keras picks the first when the model name ends in <c>-b…</c> (the B variants) and the input has 3
/// channels, the second otherwise.
/// </param>
public sealed record EfficientNetV2Variant(string Name, double Width, double Depth, int Resolution,
                                           IReadOnlyList<EfficientNetV2BlockArgs> Blocks, bool ImageNetNormalization)
{
    // Static fields initialize in text order: the tables come before the variants that use them.

    // DEFAULT_BLOCKS_ARGS["efficientnetv2-b0"]; b1, b2 and b3 repeat the same table (they differ only in width and depth).
    private static readonly EfficientNetV2BlockArgs[] s_baseBlocks =
    [
        new(Fused: true, KernelSize: 3, Repeats: 1, FiltersIn: 32, FiltersOut: 16, ExpandRatio: 1, Strides: 1, SeRatio: 0),
        new(Fused: true, KernelSize: 3, Repeats: 2, FiltersIn: 16, FiltersOut: 32, ExpandRatio: 4, Strides: 2, SeRatio: 0),
        new(Fused: true, KernelSize: 3, Repeats: 2, FiltersIn: 32, FiltersOut: 48, ExpandRatio: 4, Strides: 2, SeRatio: 0),
        new(Fused: false, KernelSize: 3, Repeats: 3, FiltersIn: 48, FiltersOut: 96, ExpandRatio: 4, Strides: 2, SeRatio: 0.25),
        new(Fused: false, KernelSize: 3, Repeats: 5, FiltersIn: 96, FiltersOut: 112, ExpandRatio: 6, Strides: 1, SeRatio: 0.25),
        new(Fused: false, KernelSize: 3, Repeats: 8, FiltersIn: 112, FiltersOut: 192, ExpandRatio: 6, Strides: 2, SeRatio: 0.25),
    ];

    // DEFAULT_BLOCKS_ARGS["efficientnetv2-s"].
    private static readonly EfficientNetV2BlockArgs[] s_smallBlocks =
    [
        new(Fused: true, KernelSize: 3, Repeats: 2, FiltersIn: 24, FiltersOut: 24, ExpandRatio: 1, Strides: 1, SeRatio: 0),
        new(Fused: true, KernelSize: 3, Repeats: 4, FiltersIn: 24, FiltersOut: 48, ExpandRatio: 4, Strides: 2, SeRatio: 0),
        new(Fused: true, KernelSize: 3, Repeats: 4, FiltersIn: 48, FiltersOut: 64, ExpandRatio: 4, Strides: 2, SeRatio: 0),
        new(Fused: false, KernelSize: 3, Repeats: 6, FiltersIn: 64, FiltersOut: 128, ExpandRatio: 4, Strides: 2, SeRatio: 0.25),
        new(Fused: false, KernelSize: 3, Repeats: 9, FiltersIn: 128, FiltersOut: 160, ExpandRatio: 6, Strides: 1, SeRatio: 0.25),
        new(Fused: false, KernelSize: 3, Repeats: 15, FiltersIn: 160, FiltersOut: 256, ExpandRatio: 6, Strides: 2, SeRatio: 0.25),
    ];

    // DEFAULT_BLOCKS_ARGS["efficientnetv2-m"].
    private static readonly EfficientNetV2BlockArgs[] s_mediumBlocks =
    [
        new(Fused: true, KernelSize: 3, Repeats: 3, FiltersIn: 24, FiltersOut: 24, ExpandRatio: 1, Strides: 1, SeRatio: 0),
        new(Fused: true, KernelSize: 3, Repeats: 5, FiltersIn: 24, FiltersOut: 48, ExpandRatio: 4, Strides: 2, SeRatio: 0),
        new(Fused: true, KernelSize: 3, Repeats: 5, FiltersIn: 48, FiltersOut: 80, ExpandRatio: 4, Strides: 2, SeRatio: 0),
        new(Fused: false, KernelSize: 3, Repeats: 7, FiltersIn: 80, FiltersOut: 160, ExpandRatio: 4, Strides: 2, SeRatio: 0.25),
        new(Fused: false, KernelSize: 3, Repeats: 14, FiltersIn: 160, FiltersOut: 176, ExpandRatio: 6, Strides: 1, SeRatio: 0.25),
        new(Fused: false, KernelSize: 3, Repeats: 18, FiltersIn: 176, FiltersOut: 304, ExpandRatio: 6, Strides: 2, SeRatio: 0.25),
        new(Fused: false, KernelSize: 3, Repeats: 5, FiltersIn: 304, FiltersOut: 512, ExpandRatio: 6, Strides: 1, SeRatio: 0.25),
    ];

    // DEFAULT_BLOCKS_ARGS["efficientnetv2-l"].
    private static readonly EfficientNetV2BlockArgs[] s_largeBlocks =
    [
        new(Fused: true, KernelSize: 3, Repeats: 4, FiltersIn: 32, FiltersOut: 32, ExpandRatio: 1, Strides: 1, SeRatio: 0),
        new(Fused: true, KernelSize: 3, Repeats: 7, FiltersIn: 32, FiltersOut: 64, ExpandRatio: 4, Strides: 2, SeRatio: 0),
        new(Fused: true, KernelSize: 3, Repeats: 7, FiltersIn: 64, FiltersOut: 96, ExpandRatio: 4, Strides: 2, SeRatio: 0),
        new(Fused: false, KernelSize: 3, Repeats: 10, FiltersIn: 96, FiltersOut: 192, ExpandRatio: 4, Strides: 2, SeRatio: 0.25),
        new(Fused: false, KernelSize: 3, Repeats: 19, FiltersIn: 192, FiltersOut: 224, ExpandRatio: 6, Strides: 1, SeRatio: 0.25),
        new(Fused: false, KernelSize: 3, Repeats: 25, FiltersIn: 224, FiltersOut: 384, ExpandRatio: 6, Strides: 2, SeRatio: 0.25),
        new(Fused: false, KernelSize: 3, Repeats: 7, FiltersIn: 384, FiltersOut: 640, ExpandRatio: 6, Strides: 1, SeRatio: 0.25),
    ];

    /// <summary>EfficientNetV2B0: width 1.0, depth 1.0, 224, ImageNet normalization.</summary>
    public static EfficientNetV2Variant B0 { get; } = new("efficientnetv2-b0", 1.0, 1.0, 224, s_baseBlocks, true);
    /// <summary>EfficientNetV2B1: width 1.0, depth 1.1, 240, ImageNet normalization.</summary>
    public static EfficientNetV2Variant B1 { get; } = new("efficientnetv2-b1", 1.0, 1.1, 240, s_baseBlocks, true);
    /// <summary>EfficientNetV2B2: width 1.1, depth 1.2, 260, ImageNet normalization.</summary>
    public static EfficientNetV2Variant B2 { get; } = new("efficientnetv2-b2", 1.1, 1.2, 260, s_baseBlocks, true);
    /// <summary>EfficientNetV2B3: width 1.2, depth 1.4, 300, ImageNet normalization.</summary>
    public static EfficientNetV2Variant B3 { get; } = new("efficientnetv2-b3", 1.2, 1.4, 300, s_baseBlocks, true);
    /// <summary>EfficientNetV2S: its own six stages, 384, <c>x / 128 − 1</c>.</summary>
    public static EfficientNetV2Variant S { get; } = new("efficientnetv2-s", 1.0, 1.0, 384, s_smallBlocks, false);
    /// <summary>EfficientNetV2M: its own seven stages, 480, <c>x / 128 − 1</c>.</summary>
    public static EfficientNetV2Variant M { get; } = new("efficientnetv2-m", 1.0, 1.0, 480, s_mediumBlocks, false);
    /// <summary>EfficientNetV2L: its own seven stages, 480, <c>x / 128 − 1</c>.</summary>
    public static EfficientNetV2Variant L { get; } = new("efficientnetv2-l", 1.0, 1.0, 480, s_largeBlocks, false);

    /// <summary>B0, B1, B2, B3, S, M, L in Keras's order.</summary>
    public static IReadOnlyList<EfficientNetV2Variant> Standard { get; } = [B0, B1, B2, B3, S, M, L];

    /// <summary>Checks that the coefficients and stages can build a model.</summary>
    /// <exception cref="ArgumentException">A coefficient is not positive, the resolution is below 32, or a stage is invalid.</exception>
    public void Validate()
    {
        EfficientNetBlocks.ValidateScaling("EfficientNetV2", Name, Width, Depth, Resolution);
        if (Blocks is null || Blocks.Count == 0) throw new ArgumentException($"{Name}: EfficientNetV2 needs at least one stage.", nameof(Blocks));
        foreach (var b in Blocks)
        {
            if (b is null || b.KernelSize < 1 || b.Repeats < 1 || b.FiltersIn < 1 || b.FiltersOut < 1 || b.ExpandRatio < 1
                || b.Strides is not (1 or 2) || !(b.SeRatio is >= 0 and <= 1))
                throw new ArgumentException($"{Name}: invalid stage {b}: sizes and repeats must be positive, strides 1 or 2 and se_ratio in [0, 1].", nameof(Blocks));
        }
    }
}
