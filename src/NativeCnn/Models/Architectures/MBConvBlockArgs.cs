namespace NativeCnn.Models.Architectures;

/// <summary>
/// One stage of EfficientNet, as a row of Keras's <c>DEFAULT_BLOCKS_ARGS</c> (before width and depth scaling).
/// Keras's <c>id_skip</c> is true in every row, so it is not a field: a block has a residual whenever its stride is 1 and
/// its input and output widths match.
/// </summary>
/// <param name="KernelSize">Depthwise kernel size.</param>
/// <param name="Repeats">Blocks in the stage, before <see cref="EfficientNet.RoundRepeats"/>.</param>
/// <param name="FiltersIn">Input width, before <see cref="EfficientNet.RoundFilters"/>.</param>
/// <param name="FiltersOut">Output width, before <see cref="EfficientNet.RoundFilters"/>.</param>
/// <param name="ExpandRatio">Expansion of the inverted bottleneck; 1 means no <c>expand_conv</c>.</param>
/// <param name="Strides">Stride of the stage's first block (later blocks use 1).</param>
/// <param name="SeRatio">Squeeze-and-excitation width as a fraction of the block input width; 0 disables it.</param>
public sealed record MBConvBlockArgs(int KernelSize, int Repeats, int FiltersIn, int FiltersOut, int ExpandRatio, int Strides, double SeRatio);
