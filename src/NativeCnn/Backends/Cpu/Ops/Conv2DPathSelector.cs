namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>The path a convolution runs on, and why.</summary>
internal readonly record struct Conv2DPathChoice(Conv2DPath Path, string Reason);

/// <summary>Picks a convolution's path once, when it is prepared, from its descriptor and output shape.</summary>
internal static class Conv2DPathSelector
{
    /// <summary>The widest output map whose 3x3 stride-1 convolutions run as Winograd (see <see cref="Choose"/>).</summary>
    internal const int WinogradMaxWidth = 28;

    /// <summary>
    /// Pointwise convolutions are a GEMM on the input itself. 3x3 stride-1 undilated convolutions on maps up to
    /// <see cref="WinogradMaxWidth"/> wide run as Winograd F(2x2, 3x3) (16 multiplies per 2x2 output tile instead of
    /// 36): on ResNet50's 28x28..7x7 3x3s 20-45 % faster than the packed GEMM on their windows, at the cost of two
    /// buffers of 4x the input and output; on its 56x56x64 ones it wins alone (Conv2DPathBenchmarks) but loses in the
    /// model, where those 3 MB buffers are cold. Every other convolution runs the packed GEMM's micro-kernels on the
    /// windows read straight from the input (a padded copy of it when the convolution pads): the RGB stems 1.5-2x
    /// faster than with patches gathered first, strided 1x1s and 56x56 3x3s level with or a few percent faster than
    /// the implicit GEMM and the direct kernel they replaced.
    /// Only windows dilated along the width, which are not contiguous, still gather patches.
    /// </summary>
    /// <param name="op">The convolution.</param>
    /// <param name="output">Its NHWC output shape (a shape of another rank is left for the op to refuse).</param>
    public static Conv2DPathChoice Choose(Conv2DOp op, TensorShape output)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (op.IsPointwise) return new(Conv2DPath.Pointwise, "1x1, stride 1, unpadded: a GEMM on the input itself");
        if (IsWinogradShape(op))
        {
            if (output.Rank == 4 && output.Width <= WinogradMaxWidth)
                return new(Conv2DPath.Winograd, $"3x3 stride 1 on a map at most {WinogradMaxWidth} wide: Winograd F(2x2, 3x3) multiplies 16/36 as often");
            return new(Conv2DPath.Windows, $"3x3 stride 1 on a map wider than {WinogradMaxWidth}: Winograd's buffers would be cold");
        }
        return op.DilationWidth == 1
            ? new(Conv2DPath.Windows, "windows contiguous along the width: the packed GEMM reads them in place")
            : new(Conv2DPath.ImplicitGemm, "dilated along the width: windows are not contiguous, so patches are gathered");
    }

    /// <summary>Whether <paramref name="op"/> is a 3x3 stride-1 undilated convolution, the shape Winograd F(2x2, 3x3) computes.</summary>
    internal static bool IsWinogradShape(Conv2DOp op)
        => op.KernelHeight == 3 && op.KernelWidth == 3 && op.StrideHeight == 1 && op.StrideWidth == 1
           && op.DilationHeight == 1 && op.DilationWidth == 1;
}
