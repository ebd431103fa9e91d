using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// A convolution as an implicit GEMM: each thread gathers the patches of a slot of output pixels into its own buffer
/// and multiplies them by the packed kernel while they are still in L2. The path for windows dilated along the width,
/// which the windows path cannot read as one contiguous run.
/// </summary>
internal sealed class CpuImplicitGemmConv2D : CpuPackedGemmConv2D
{
    private readonly Tensor _slots;
    private readonly int[] _slotTaken;
    private readonly int _slotPixels;

    public CpuImplicitGemmConv2D(Conv2DOp op, OpBinding binding, WorkerPool pool) : base(op, binding, pool, Conv2DPath.ImplicitGemm)
    {
        _slotPixels = SlotPixels(Gemm.Pixels, Gemm.InputChannels, ChunkPixels);
        _slots = new Tensor(new TensorShape(pool.ThreadCount * _slotPixels, Gemm.InputChannels));
        _slotTaken = new int[pool.ThreadCount];
    }

    /// <summary>
    /// Pixels an implicit GEMM gathers at a time: about the chunk <see cref="CpuPackedGemmConv2D.ChooseChunkPixels"/>
    /// picks when the weights do not fit in L2 (at most 96, which already reuse each weight 96 times), otherwise about
    /// as many as fill a quarter of the L2 budget, up to 96 pixels or 64 KiB of patches, whichever is more (thin
    /// inputs: the RGB stem's 27-value patches in slots of 96 ran 30 % slower than in slots of 600, the per-call cost
    /// dominating); the map is then cut into equal slots of whole pixel blocks, so no slot is left with a few pixels
    /// that would stream all the weights for nothing.
    /// </summary>
    internal static int SlotPixels(int pixels, int depth, int chunkPixels)
    {
        const int block = PointwiseConvKernels.PixelBlock;
        int most = Math.Max(8 * block, 64 * 1024 / (depth * sizeof(float)) / block * block);
        int wanted = Math.Clamp(chunkPixels != 0 ? chunkPixels : L2Bytes / 4 / (depth * sizeof(float)), block, most);
        int slots = (pixels + wanted - 1) / wanted, perSlot = (pixels + slots - 1) / slots;
        return (perSlot + block - 1) / block * block;
    }

    /// <summary>The rows' pixel blocks, a slot of pixels at a time: gathered into this thread's slot, then multiplied.</summary>
    protected override void Execute<TActivation>(RowRange rows, TActivation activation)
    {
        int depth = Gemm.InputChannels, filters = Gemm.OutputChannels, slotPixels = _slotPixels;
        // At most one Execute per pool thread runs at a time, so a free slot is always there.
        int slot = 0;
        while (Interlocked.CompareExchange(ref _slotTaken[slot], 1, 0) != 0) slot = (slot + 1) % _slotTaken.Length;
        try
        {
            var buffer = _slots.Span.Slice(slot * slotPixels * depth, slotPixels * depth);
            var input = Input.Span;
            var output = Output.Span;
            var residual = Residual;
            for (int row = rows.Start; row < rows.End;)
            {
                row = Split.Item(row, rows.End, out var blocks, out var panels);
                var pixels = Pixels(blocks);
                int first = pixels.Start, end = pixels.End;
                // Equal slots of whole blocks, so that a thread's share does not end in a sliver that streams every
                // weight for a few pixels.
                int slots = (end - first + slotPixels - 1) / slotPixels;
                int step = ((end - first + slots - 1) / slots + PointwiseConvKernels.PixelBlock - 1)
                           / PointwiseConvKernels.PixelBlock * PointwiseConvKernels.PixelBlock;
                for (int m = first; m < end; m += step)
                {
                    int count = Math.Min(step, end - m);
                    Conv2DKernels.GatherPatches(input, buffer, Params, new RowRange(m, m + count));
                    var sum = residual.IsEmpty ? default : residual.Slice(m * filters, count * filters);
                    Multiply(buffer, sum, output.Slice(m * filters, count * filters), new PointwiseConvParams(count, depth, filters),
                             activation, new RowRange(0, count), panels);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _slotTaken[slot], 0);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _slots.Dispose();
    }
}
