using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tensors;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// A 2-D convolution. Pointwise ones (1x1, stride 1, unpadded) run as a packed GEMM over pixel blocks, with the kernel
/// packed here once; the rest run the direct convolution over output rows.
/// </summary>
internal sealed class CpuConv2D : CpuOp
{
    /// <summary>Work rows a pointwise layer aims for, so that small layers still give every thread several chunks.</summary>
    private const int MinPointwiseRows = 16;

    private readonly Conv2DParams _params;
    private readonly Tensor _kernel;
    private readonly Tensor? _bias;
    private readonly ActivationFunction _activation;
    private readonly Tensor? _residual;
    private readonly Tensor? _inputScale;
    private readonly PackedPointwiseWeights? _packed;
    private readonly PointwiseConvParams _pointwise;
    private readonly int _pixelBlocks, _panelGroups;
    private readonly PatchScratch? _patches;

    public CpuConv2D(Conv2DOp op, OpBinding binding, WorkerPool pool)
        : base(binding, pool, 1 + (op.AddsResidual ? 1 : 0) + (op.ScalesInputChannels ? 1 : 0), op.UseBias ? 2 : 1)
    {
        var i = Input.Shape;
        if (i.Rank != 4) throw Fail($"expected an NHWC input, got {i}");
        int outH = Padding2D.OutputSize(i.Height, op.Padding.Top, op.Padding.Bottom, op.KernelHeight, op.StrideHeight, op.DilationHeight);
        int outW = Padding2D.OutputSize(i.Width, op.Padding.Left, op.Padding.Right, op.KernelWidth, op.StrideWidth, op.DilationWidth);
        ExpectShape(Output.Shape, TensorShape.Nhwc(i.Batch, outH, outW, op.Filters), "output");
        _kernel = binding.Weights[0];
        ExpectShape(_kernel.Shape, new TensorShape(op.KernelHeight, op.KernelWidth, i.Channels, op.Filters), "kernel");
        if (op.UseBias)
        {
            _bias = binding.Weights[1];
            ExpectLength(_bias, op.Filters, "bias");
        }
        _activation = op.Activation;
        if (op.AddsResidual)
        {
            _residual = Inputs[1];
            ExpectShape(_residual.Shape, Output.Shape, "residual input");
        }
        if (op.ScalesInputChannels)
        {
            if (!op.IsPointwise) throw Fail("input channel scales need a pointwise (1x1, stride 1, unpadded) convolution");
            _inputScale = Inputs[^1];
            ExpectShape(_inputScale.Shape, TensorShape.Nhwc(i.Batch, 1, 1, i.Channels), "input channel scales");
        }
        _params = new Conv2DParams(i.Batch, i.Height, i.Width, i.Channels, outH, outW, op.Filters,
            op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth, op.DilationHeight, op.DilationWidth,
            op.Padding.Top, op.Padding.Left);

        bool pointwise = op.IsPointwise;
        // Other convolutions go through the same packed GEMM on gathered patches (im2col: one row of kh·kw·C values
        // per output pixel, in HWIO order) where the direct kernel is weak: strided 1x1s, small maps (7x7, 14x14,
        // where most pixels touch the padding) and thin inputs such as the RGB stem.
        bool patches = !pointwise && (op.KernelHeight * op.KernelWidth == 1 || outW <= 14 || i.Channels < 8);
        if (pointwise || patches)
        {
            int depth = op.KernelHeight * op.KernelWidth * i.Channels;
            if (patches) _patches = new PatchScratch(depth, pool.ThreadCount);
            _packed = new PackedPointwiseWeights(_kernel.Span, _bias is null ? default : _bias.Span, depth, op.Filters);
            _pointwise = new PointwiseConvParams(i.Batch * outH * outW, depth, op.Filters);
            _pixelBlocks = (_pointwise.Pixels + PointwiseConvKernels.PixelBlock - 1) / PointwiseConvKernels.PixelBlock;
            // Few pixels (7x7 maps) leave too few blocks to share: the output channels are then split into panel groups too.
            _panelGroups = Math.Clamp((MinPointwiseRows + _pixelBlocks - 1) / _pixelBlocks, 1, _packed.PanelCount);
        }
    }

    protected override int RowCount => _packed is null ? _params.RowCount : _pixelBlocks * _panelGroups;

    public override void Execute(RowRange rows)
    {
        var call = new Call(this, rows);
        ActivationDispatch.Dispatch(_activation, ref call);
    }

    public override void Dispose()
    {
        _packed?.Dispose();
        _patches?.Dispose();
    }

    /// <summary>
    /// Per-thread buffers for the patches (im2col rows) of a few output pixels at a time: each work item gathers a block
    /// of patches and multiplies it while it is in L1/L2, instead of writing every patch of the layer to memory first
    /// (7.4 MB for ResNet's 7x7 RGB stem) and reading them back.
    /// </summary>
    private sealed class PatchScratch : IDisposable
    {
        /// <summary>Bytes of patches per block: with the block's output tiles this stays in L2.</summary>
        private const int BlockBytes = 64 * 1024;

        private readonly Tensor _buffers;
        private readonly int[] _inUse;

        public PatchScratch(int depth, int threads)
        {
            Depth = depth;
            int pixels = BlockBytes / sizeof(float) / depth / PointwiseConvKernels.PixelBlock * PointwiseConvKernels.PixelBlock;
            PixelsPerBlock = Math.Max(PointwiseConvKernels.PixelBlock, pixels);
            _buffers = new Tensor(new TensorShape(threads, PixelsPerBlock * depth));
            _inUse = new int[threads];
        }

        public int Depth { get; }

        public int PixelsPerBlock { get; }

        /// <summary>Claims a free buffer: the pool runs at most one work item per thread at once, so one is always free.</summary>
        public int Rent()
        {
            for (int slot = 0; ; slot = (slot + 1) % _inUse.Length)
                if (Interlocked.CompareExchange(ref _inUse[slot], 1, 0) == 0) return slot;
        }

        public void Return(int slot) => Volatile.Write(ref _inUse[slot], 0);

        public Span<float> Buffer(int slot) => _buffers.Span.Slice(slot * PixelsPerBlock * Depth, PixelsPerBlock * Depth);

        public void Dispose() => _buffers.Dispose();
    }

    /// <summary>
    /// Writes the patches of output pixels <c>[first, first + count)</c> (flattened over batch, rows and columns): each
    /// pixel's kh·kw windows of C channels, zeros where they fall in the padding. Without dilation the kw windows of one
    /// kernel row are contiguous in the input, so an inner pixel copies one run of kw·C values per kernel row.
    /// </summary>
    private static void GatherPatches(ReadOnlySpan<float> source, in Conv2DParams p, int first, int count, Span<float> target)
    {
        int channels = p.InputChannels, rowRun = p.KernelWidth * channels, depth = p.KernelHeight * rowRun;
        int rowStride = p.InputWidth * channels;
        int n = first / (p.OutputHeight * p.OutputWidth), rest = first - n * p.OutputHeight * p.OutputWidth;
        int oy = rest / p.OutputWidth, ox = rest - oy * p.OutputWidth;
        for (int m = 0; m < count; m++)
        {
            var patch = target.Slice(m * depth, depth);
            int ix0 = ox * p.StrideWidth - p.PadLeft;
            bool innerColumns = p.DilationWidth == 1 && ix0 >= 0 && ix0 + p.KernelWidth <= p.InputWidth;
            for (int ky = 0; ky < p.KernelHeight; ky++)
            {
                int iy = oy * p.StrideHeight + ky * p.DilationHeight - p.PadTop;
                var run = patch.Slice(ky * rowRun, rowRun);
                if ((uint)iy >= (uint)p.InputHeight)
                {
                    run.Clear();
                    continue;
                }
                var inputRow = source.Slice((n * p.InputHeight + iy) * rowStride, rowStride);
                if (innerColumns)
                {
                    CopyRun(inputRow.Slice(ix0 * channels, rowRun), run);
                    continue;
                }
                for (int kx = 0; kx < p.KernelWidth; kx++)
                {
                    int ix = ix0 + kx * p.DilationWidth;
                    var window = run.Slice(kx * channels, channels);
                    if ((uint)ix < (uint)p.InputWidth) CopyRun(inputRow.Slice(ix * channels, channels), window);
                    else window.Clear();
                }
            }
            if (++ox == p.OutputWidth)
            {
                ox = 0;
                if (++oy == p.OutputHeight)
                {
                    oy = 0;
                    n++;
                }
            }
        }
    }

    /// <summary>A copy that stays inline for the short runs of thin inputs (a call to memmove costs more than 9 values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRun(ReadOnlySpan<float> from, Span<float> to)
    {
        int length = from.Length;
        if (length > 16 || (uint)length > (uint)to.Length)
        {
            from.CopyTo(to);
            return;
        }
        ref float source = ref MemoryMarshal.GetReference(from);
        ref float target = ref MemoryMarshal.GetReference(to);
        if (length >= 8)
        {
            // Two overlapping 8-value moves cover any run of 8 to 16 values without touching memory outside it.
            Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref source), ref target);
            Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref source, (nuint)(length - 8)), ref target, (nuint)(length - 8));
            return;
        }
        for (int i = 0; i < length; i++) Unsafe.Add(ref target, i) = Unsafe.Add(ref source, i);
    }

    private readonly struct Call(CpuConv2D op, RowRange rows) : IActivationConsumer
    {
        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            if (op._packed is not null)
            {
                Pointwise(activation);
                return;
            }
            var bias = op._bias is null ? default : op._bias.Span;
            if (op._residual is null)
            {
                Conv2DKernels.Nhwc(op.Input.Span, op._kernel.Span, bias, op.Output.Span, in op._params, activation, rows);
                return;
            }
            // The residual is added to these rows while they are still in cache, then the activation runs on the sum.
            Conv2DKernels.Nhwc(op.Input.Span, op._kernel.Span, bias, op.Output.Span, in op._params, default(IdentityActivation), rows);
            int rowLength = op._params.OutputWidth * op._params.OutputChannels;
            var output = op.Output.Span.Slice(rows.Start * rowLength, rows.Count * rowLength);
            ElementwiseKernels.Add(output, op._residual.Span.Slice(rows.Start * rowLength, rows.Count * rowLength), output);
            if (activation is not IdentityActivation) ElementwiseKernels.Apply(output, output, activation);
        }

        private void Pointwise<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            var packed = op._packed!;
            int blocks = op._pixelBlocks, groups = op._panelGroups, pixels = op._pointwise.Pixels;
            var residual = op._residual is null ? default : op._residual.Span;
            for (int row = rows.Start; row < rows.End;)
            {
                int group = row / blocks, block = row - group * blocks;
                int lastBlock = Math.Min(blocks, block + rows.End - row);
                var pixelRange = new RowRange(block * PointwiseConvKernels.PixelBlock,
                                              Math.Min(pixels, lastBlock * PointwiseConvKernels.PixelBlock));
                var panelRange = new RowRange(group * packed.PanelCount / groups, (group + 1) * packed.PanelCount / groups);
                if (op._patches is null)
                    PointwiseConvKernels.Nhwc(op.Input.Span, packed, residual, op.Output.Span, in op._pointwise, activation,
                                              pixelRange, panelRange, op._inputScale is null ? default : op._inputScale.Span,
                                              op._params.OutputHeight * op._params.OutputWidth);
                else
                    OnPatches(activation, pixelRange, panelRange);
                row += lastBlock - block;
            }
        }

        /// <summary>The pointwise GEMM on patches gathered a block of pixels at a time into this thread's buffer.</summary>
        private void OnPatches<TActivation>(TActivation activation, RowRange pixelRange, RowRange panelRange)
            where TActivation : struct, IActivation
        {
            var scratch = op._patches!;
            int n = op._pointwise.OutputChannels, depth = scratch.Depth;
            var residual = op._residual is null ? default : op._residual.Span;
            int slot = scratch.Rent();
            try
            {
                var patches = scratch.Buffer(slot);
                for (int first = pixelRange.Start; first < pixelRange.End; first += scratch.PixelsPerBlock)
                {
                    int count = Math.Min(scratch.PixelsPerBlock, pixelRange.End - first);
                    GatherPatches(op.Input.Span, in op._params, first, count, patches);
                    var block = new PointwiseConvParams(count, depth, n);
                    PointwiseConvKernels.Nhwc(patches, op._packed!, residual.IsEmpty ? default : residual.Slice(first * n, count * n),
                                              op.Output.Span.Slice(first * n, count * n), in block, activation,
                                              new RowRange(0, count), panelRange);
                }
            }
            finally
            {
                scratch.Return(slot);
            }
        }
    }
}
