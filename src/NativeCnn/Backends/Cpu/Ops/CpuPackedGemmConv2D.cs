using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// What the two paths that multiply pixel rows by the packed kernel share (<see cref="CpuPointwiseConv2D"/> on the
/// input itself, <see cref="CpuImplicitGemmConv2D"/> on gathered patches): the kernel packed once, the GEMM's shape,
/// its cut into work rows over pixel blocks and panels, and the pixel chunk for weights beyond L2.
/// </summary>
internal abstract class CpuPackedGemmConv2D : CpuConv2D
{
    /// <summary>Bytes of L2 one GEMM call may fill with the operands it reuses (a pixel chunk's input and one panel).</summary>
    internal const int L2Bytes = 768 * 1024;

    protected CpuPackedGemmConv2D(Conv2DOp op, OpBinding binding, WorkerPool pool, Conv2DPath path) : base(op, binding, pool, path)
    {
        var p = Params;
        int depth = p.KernelHeight * p.KernelWidth * p.InputChannels;
        Packed = new PackedPointwiseWeights(Kernel.Span, Bias, depth, p.OutputChannels);
        Gemm = new PointwiseConvParams(p.Batch * p.OutputHeight * p.OutputWidth, depth, p.OutputChannels);
        int pixelBlocks = (Gemm.Pixels + PointwiseConvKernels.PixelBlock - 1) / PointwiseConvKernels.PixelBlock;
        Split = GemmSplit.Choose(pixelBlocks, Packed.PanelCount, (long)depth * p.OutputChannels * sizeof(float),
                                 (long)Gemm.Pixels * depth * sizeof(float), pool.ThreadCount);
        ChunkPixels = ChooseChunkPixels(Gemm.Pixels, depth, (Packed.PanelCount + Split.Groups - 1) / Split.Groups, Packed.PanelWidth);
    }

    /// <summary>The kernel (<c>kh·kw·C × filters</c>) and bias, packed.</summary>
    protected PackedPointwiseWeights Packed { get; }

    /// <summary>The GEMM: every output pixel × the window depth × the filters.</summary>
    protected PointwiseConvParams Gemm { get; }

    /// <summary>The work rows: panel groups × runs of pixel blocks.</summary>
    protected GemmSplit Split { get; }

    /// <summary>Pixels per chunk taken panel by panel, or 0 to leave the blocking to the kernel (<see cref="ChooseChunkPixels"/>).</summary>
    protected int ChunkPixels { get; }

    protected override int RowCount => Split.RowCount;

    /// <summary>
    /// Pixels per chunk when a GEMM call's weights do not fit in L2 (deep conv4/conv5 layers, 3x3 patches with K up to
    /// 4608), or 0 to leave the blocking to the kernel. The kernel passes every panel over each of its small input
    /// chunks, so weights larger than L2 would be streamed from L3 once per chunk; instead the call is cut into pixel
    /// chunks, each taken panel by panel, whichever of two orders moves fewer bytes: chunks whose input stays in L2
    /// next to one panel (weights read once per chunk), or all pixels at once (weights read once, the input once per
    /// panel).
    /// </summary>
    internal static int ChooseChunkPixels(int pixels, int depth, int panelsPerCall, int panelWidth)
    {
        long row = (long)depth * sizeof(float), panel = row * panelWidth, weights = panel * panelsPerCall;
        if (weights <= L2Bytes / 2 || pixels <= PointwiseConvKernels.PixelBlock) return 0;
        long input = row * pixels;
        long allAtOnce = weights + (input + panel <= L2Bytes ? input : input * panelsPerCall);
        int fit = (int)Math.Min(pixels, (L2Bytes - panel) / row) / PointwiseConvKernels.PixelBlock * PointwiseConvKernels.PixelBlock;
        if (fit == 0) return pixels;
        long chunked = weights * ((pixels + fit - 1) / fit) + input;
        return chunked < allAtOnce ? fit : pixels;
    }

    /// <summary>The pixels of a run of pixel blocks.</summary>
    protected RowRange Pixels(RowRange blocks)
        => new(blocks.Start * PointwiseConvKernels.PixelBlock, Math.Min(Gemm.Pixels, blocks.End * PointwiseConvKernels.PixelBlock));

    /// <summary>
    /// <paramref name="pixels"/> × <paramref name="panels"/> of a GEMM of shape <paramref name="gemm"/> on
    /// <paramref name="input"/>, in one call, or chunk by chunk and panel by panel when the weights do not fit in L2.
    /// </summary>
    protected void Multiply<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, Span<float> output, in PointwiseConvParams gemm,
                                         TActivation activation, RowRange pixels, RowRange panels,
                                         ReadOnlySpan<float> inputScale = default, int pixelsPerImage = 0)
        where TActivation : struct, IActivation
    {
        int chunk = ChunkPixels;
        if (chunk == 0)
        {
            PointwiseConvKernels.Nhwc(input, Packed, residual, output, in gemm, activation, pixels, panels, inputScale, pixelsPerImage);
            return;
        }
        for (int m = pixels.Start; m < pixels.End; m += chunk)
            for (int panel = panels.Start; panel < panels.End; panel++)
                PointwiseConvKernels.Nhwc(input, Packed, residual, output, in gemm, activation, new RowRange(m, Math.Min(pixels.End, m + chunk)),
                                          new RowRange(panel, panel + 1), inputScale, pixelsPerImage);
    }

    public override void Dispose() => Packed.Dispose();
}
