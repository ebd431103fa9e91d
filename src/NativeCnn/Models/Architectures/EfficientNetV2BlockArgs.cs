namespace NativeCnn.Models.Architectures;

/// <summary>
/// One stage of EfficientNetV2, as a row of Keras's <c>DEFAULT_BLOCKS_ARGS</c> in
/// <c>keras/src/applications/efficientnet_v2.py</c> (before width and depth scaling). A block has a residual whenever its
/// stride is 1 and its input and output widths match (Keras has no <c>id_skip</c> in V2).
/// </summary>
/// <param name="Fused">Keras's <c>conv_type</c>: <c>true</c> (1) for a Fused-MBConv block, whose <c>expand_conv</c> is a
/// full k×k convolution; <c>false</c> (0) for an MBConv block (1×1 expansion, then a depthwise k×k).</param>
/// <param name="KernelSize">Keras's <c>kernel_size</c>: the k×k of the fused or depthwise convolution.</param>
/// <param name="Repeats">Keras's <c>num_repeat</c>: blocks in the stage, before <see cref="EfficientNet.RoundRepeats"/>.</param>
/// <param name="FiltersIn">Keras's <c>input_filters</c>, before <see cref="EfficientNetV2.RoundFilters"/>.</param>
/// <param name="FiltersOut">Keras's <c>output_filters</c>, before <see cref="EfficientNetV2.RoundFilters"/>.</param>
/// <param name="ExpandRatio">Keras's <c>expand_ratio</c>; 1 means no <c>expand_conv</c> (a fused block then has a k×k
/// <c>project_conv</c> with an activation).</param>
/// <param name="Strides">Keras's <c>strides</c> of the stage's first block (later blocks use 1).</param>
/// <param name="SeRatio">Keras's <c>se_ratio</c>: squeeze-and-excitation width as a fraction of the block input width;
/// 0 disables it.</param>
public sealed record EfficientNetV2BlockArgs(bool Fused, int KernelSize, int Repeats, int FiltersIn, int FiltersOut,
                                             int ExpandRatio, int Strides, double SeRatio)
{
    /// <summary>The stage in timm notation, e.g. <c>er_r2_k3_s2_e4_c32</c> (fused) or <c>ir_r3_k3_s2_e4_c96_se0.25</c>.</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
                      $"{(Fused ? "er" : "ir")}_r{Repeats}_k{KernelSize}_s{Strides}_e{ExpandRatio}_c{FiltersOut}{(SeRatio > 0 ? $"_se{SeRatio}" : "")}");
}
