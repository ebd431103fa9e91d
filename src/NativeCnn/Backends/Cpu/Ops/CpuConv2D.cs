using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tensors;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// A 2-D convolution. Pointwise ones (1x1, stride 1, unpadded) run as a packed GEMM over pixel blocks, with the kernel
/// packed here once; 3x3 stride-1 ones on small maps run as Winograd F(2x2, 3x3) through the same GEMM; the rest run
/// its micro-kernels on windows read straight from the input (see <see cref="ChoosePath"/>).
/// </summary>
internal sealed class CpuConv2D : CpuOp
{
    /// <summary>Bytes of L2 one GEMM call may fill with the operands it reuses (a pixel chunk's input and one panel).</summary>
    private const int L2Bytes = 768 * 1024;

    private readonly Conv2DParams _params;
    private readonly Tensor _kernel;
    private readonly Tensor? _bias;
    private readonly ActivationFunction _activation;
    private readonly Tensor? _residual;
    private readonly Tensor? _inputScale;
    private readonly PackedPointwiseWeights? _packed;
    private readonly PointwiseConvParams _pointwise;
    private readonly GemmSplit _split;
    private readonly int _chunkPixels;
    private readonly Tensor? _patches;
    private readonly PatchGather? _gather;
    private readonly Tensor? _slots;
    private readonly int[]? _slotTaken;
    private readonly int _slotPixels;
    private readonly PackedPointwiseWeights[]? _positionWeights;
    private readonly Tensor? _transformed, _products;
    private readonly int _tiles, _tileBlocks;
    private readonly WinogradInput? _winogradInput;
    private readonly WinogradOutput? _winogradOutput;
    private readonly Conv2DParams _windows;
    private readonly Tensor? _paddedInput;
    private readonly PadCopy? _padCopy;

    /// <summary>The widest output map whose 3x3 stride-1 convolutions run as Winograd (see <see cref="ChoosePath"/>).</summary>
    internal const int WinogradMaxWidth = 28;

    /// <summary>Prepares the convolution on the path <see cref="ChoosePath"/> picks, or on <paramref name="path"/> (tests, benchmarks).</summary>
    public CpuConv2D(Conv2DOp op, OpBinding binding, WorkerPool pool, Conv2DPath? path = null)
        : base(binding, pool, 1 + (op.AddsResidual ? 1 : 0) + (op.ScalesInputChannels ? 1 : 0), op.UseBias ? 2 : 1)
    {
        var i = Input.Shape;
        if (i.Rank != 4) throw Fail($"expected an NHWC input, got {i}");
        int outH = WindowOutputSize("height", i.Height, op.Padding.Top, op.Padding.Bottom, op.KernelHeight, op.StrideHeight, op.DilationHeight);
        int outW = WindowOutputSize("width", i.Width, op.Padding.Left, op.Padding.Right, op.KernelWidth, op.StrideWidth, op.DilationWidth);
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

        Path = path ?? ChoosePath(op, outW);
        if (Path == Conv2DPath.Pointwise && !op.IsPointwise) throw Fail($"{op} is not a pointwise convolution");
        if (_inputScale is not null && Path != Conv2DPath.Pointwise) throw Fail($"input channel scales need the pointwise path, not {Path}");
        bool patches = Path == Conv2DPath.Patches, implicitGemm = Path == Conv2DPath.ImplicitGemm;
        if (Path == Conv2DPath.Winograd)
        {
            if (!IsWinogradShape(op)) throw Fail($"{op} is not a 3x3 stride-1 undilated convolution");
            int channels = i.Channels, filters = op.Filters, positions = WinogradKernels.Positions;
            _tiles = WinogradKernels.TileCount(_params);
            _tileBlocks = (_tiles + PointwiseConvKernels.PixelBlock - 1) / PointwiseConvKernels.PixelBlock;
            using var transformedKernel = new Tensor(new TensorShape(positions * channels, filters));
            WinogradKernels.TransformKernel(_kernel.Span, transformedKernel.Span, channels, filters);
            _positionWeights = new PackedPointwiseWeights[positions];
            for (int position = 0; position < positions; position++)
                _positionWeights[position] = new PackedPointwiseWeights(
                    transformedKernel.Span.Slice(position * channels * filters, channels * filters), default, channels, filters);
            _pointwise = new PointwiseConvParams(_tiles, channels, filters);
            _transformed = new Tensor(new TensorShape(positions * _tiles, channels));
            _products = new Tensor(new TensorShape(positions * _tiles, filters));
            _winogradInput = new WinogradInput(this);
            _winogradOutput = new WinogradOutput(this);
        }
        else if (Path == Conv2DPath.Windows)
        {
            if (op.DilationWidth != 1) throw Fail($"{op} is dilated along the width, which the windows path cannot read contiguously");
            var pad = op.Padding;
            // WindowOutputSize has checked that the padded extents fit 32 bits.
            int paddedHeight = i.Height + pad.Top + pad.Bottom, paddedWidth = i.Width + pad.Left + pad.Right;
            if (pad != Padding2D.None)
            {
                // A descriptor's pads can be far larger than any layer's output: refuse the copy before allocating it.
                long elements = WindowChecks.Count(i.Batch, paddedHeight, paddedWidth, i.Channels), available = Models.ActivationMemoryPlan.AvailableBytes;
                if (elements > int.MaxValue || elements * sizeof(float) > available)
                    throw Fail($"the padded copy of input {i} ({i.Batch} x {paddedHeight} x {paddedWidth} x {i.Channels}) would need {elements} elements, "
                               + $"more than a tensor holds ({int.MaxValue}) or the {available} bytes this process can use");
                _paddedInput = new Tensor(TensorShape.Nhwc(i.Batch, paddedHeight, paddedWidth, i.Channels));
                _padCopy = new PadCopy(this, new ZeroPadding2DParams(i.Batch, i.Height, i.Width, i.Channels, pad));
            }
            _windows = _params with { InputHeight = paddedHeight, InputWidth = paddedWidth, PadTop = 0, PadLeft = 0 };
            int depth = op.KernelHeight * op.KernelWidth * i.Channels;
            _packed = new PackedPointwiseWeights(_kernel.Span, _bias is null ? default : _bias.Span, depth, op.Filters);
            _split = GemmSplit.Choose(_params.RowCount, _packed.PanelCount, (long)depth * op.Filters * sizeof(float),
                                      (long)i.ElementCount * sizeof(float), pool.ThreadCount);
        }
        else if (Path != Conv2DPath.Direct)
        {
            int depth = op.KernelHeight * op.KernelWidth * i.Channels;
            if (patches)
            {
                _patches = new Tensor(new TensorShape(i.Batch * outH * outW, depth));
                _gather = new PatchGather(this);
            }
            _packed = new PackedPointwiseWeights(_kernel.Span, _bias is null ? default : _bias.Span, depth, op.Filters);
            _pointwise = new PointwiseConvParams(i.Batch * outH * outW, depth, op.Filters);
            int pixelBlocks = (_pointwise.Pixels + PointwiseConvKernels.PixelBlock - 1) / PointwiseConvKernels.PixelBlock;
            _split = GemmSplit.Choose(pixelBlocks, _packed.PanelCount, (long)depth * op.Filters * sizeof(float),
                                      (long)_pointwise.Pixels * depth * sizeof(float), pool.ThreadCount);
            _chunkPixels = ChunkPixels(_pointwise.Pixels, depth, (_packed.PanelCount + _split.Groups - 1) / _split.Groups, _packed.PanelWidth);
            if (implicitGemm)
            {
                _slotPixels = SlotPixels(_pointwise.Pixels, depth, _chunkPixels);
                _slots = new Tensor(new TensorShape(pool.ThreadCount * _slotPixels, depth));
                _slotTaken = new int[pool.ThreadCount];
            }
        }
    }

    /// <summary>The path this convolution runs on.</summary>
    internal Conv2DPath Path { get; }

    /// <summary>
    /// Pointwise convolutions are a GEMM on the input itself. 3x3 stride-1 undilated convolutions on maps up to
    /// <see cref="WinogradMaxWidth"/> wide run as Winograd F(2x2, 3x3) (16 multiplies per 2x2 output tile instead of
    /// 36): on ResNet50's 28x28..7x7 3x3s 20-45 % faster than the packed GEMM on their windows, at the cost of two
    /// buffers of 4x the input and output; on its 56x56x64 ones it wins alone (Conv2DPathBenchmarks) but loses in the
    /// model, where those 3 MB buffers are cold. Every other convolution runs the packed GEMM's micro-kernels on the
    /// windows read straight from the input (a padded copy of it when the convolution pads): the RGB stems 1.5-2x
    /// faster than with patches gathered first (implicit GEMM), strided 1x1s and 56x56 3x3s level with or a few
    /// percent faster than the implicit GEMM and the direct kernel. Only windows dilated along the width, which are
    /// not contiguous, still gather patches.
    /// </summary>
    internal static Conv2DPath ChoosePath(Conv2DOp op, int outputWidth)
    {
        if (op.IsPointwise) return Conv2DPath.Pointwise;
        if (IsWinogradShape(op) && outputWidth <= WinogradMaxWidth) return Conv2DPath.Winograd;
        return op.DilationWidth == 1 ? Conv2DPath.Windows : Conv2DPath.ImplicitGemm;
    }

    private static bool IsWinogradShape(Conv2DOp op)
        => op.KernelHeight == 3 && op.KernelWidth == 3 && op.StrideHeight == 1 && op.StrideWidth == 1
           && op.DilationHeight == 1 && op.DilationWidth == 1;


    /// <summary>
    /// Pixels per chunk when a GEMM call's weights do not fit in L2 (deep conv4/conv5 layers, 3x3 patches with K up to
    /// 4608), or 0 to leave the blocking to the kernel. The kernel passes every panel over each of its small input
    /// chunks, so weights larger than L2 would be streamed from L3 once per chunk; instead the call is cut into pixel
    /// chunks, each taken panel by panel, whichever of two orders moves fewer bytes: chunks whose input stays in L2
    /// next to one panel (weights read once per chunk), or all pixels at once (weights read once, the input once per
    /// panel).
    /// </summary>
    internal static int ChunkPixels(int pixels, int depth, int panelsPerCall, int panelWidth)
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

    /// <summary>
    /// Pixels an implicit GEMM gathers at a time: about the chunk <see cref="ChunkPixels"/> picks when the weights do
    /// not fit in L2 (at most 96, which already reuse each weight 96 times), otherwise about as many as fill a quarter
    /// of the L2 budget, up to 96 pixels or 64 KiB of patches, whichever is more (thin inputs: the RGB stem's 27-value
    /// patches in slots of 96 ran 30 % slower than in slots of 600, the per-call cost dominating); the map is then cut
    /// into equal slots of whole pixel blocks, so no slot is left with a few pixels that would stream all the weights
    /// for nothing.
    /// </summary>
    internal static int SlotPixels(int pixels, int depth, int chunkPixels)
    {
        const int block = PointwiseConvKernels.PixelBlock;
        int most = Math.Max(8 * block, 64 * 1024 / (depth * sizeof(float)) / block * block);
        int wanted = Math.Clamp(chunkPixels != 0 ? chunkPixels : L2Bytes / 4 / (depth * sizeof(float)), block, most);
        int slots = (pixels + wanted - 1) / wanted, perSlot = (pixels + slots - 1) / slots;
        return (perSlot + block - 1) / block * block;
    }

    protected override int RowCount => _positionWeights is not null ? WinogradKernels.Positions * _tileBlocks
                                       : _packed is null ? _params.RowCount : _split.RowCount;

    public override void Execute(RowRange rows)
    {
        var call = new Call(this, rows);
        ActivationDispatch.Dispatch(_activation, ref call);
    }

    public override void Run()
    {
        if (_gather is not null) Pool.Run(_gather, _params.RowCount);
        if (_padCopy is not null) Pool.Run(_padCopy, _padCopy.RowCount, PadCopy.MinRowsPerChunk);
        if (_winogradInput is not null) Pool.Run(_winogradInput, WinogradKernels.TileRowCount(_params));
        base.Run();
        if (_winogradOutput is not null) Pool.Run(_winogradOutput, WinogradKernels.TileRowCount(_params));
    }

    public override void Dispose()
    {
        _packed?.Dispose();
        _patches?.Dispose();
        _slots?.Dispose();
        _paddedInput?.Dispose();
        _transformed?.Dispose();
        _products?.Dispose();
        if (_positionWeights is not null)
            foreach (var weights in _positionWeights) weights.Dispose();
    }

    /// <summary>Winograd's first phase: the input windows of tile rows, transformed.</summary>
    private sealed class WinogradInput(CpuConv2D op) : IRowWork
    {
        public void Execute(RowRange rows) => WinogradKernels.TransformInput(op.Input.Span, op._transformed!.Span, in op._params, rows);
    }

    /// <summary>Winograd's last phase: the GEMM products of tile rows back to pixels, with bias, residual and activation.</summary>
    private sealed class WinogradOutput(CpuConv2D op) : IRowWork
    {
        public void Execute(RowRange rows)
        {
            var call = new Epilogue(op, rows);
            ActivationDispatch.Dispatch(op._activation, ref call);
        }

        private readonly struct Epilogue(CpuConv2D op, RowRange rows) : IActivationConsumer
        {
            public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation
                => WinogradKernels.TransformOutput(op._products!.Span, op._bias is null ? default : op._bias.Span,
                                                   op._residual is null ? default : op._residual.Span, op.Output.Span,
                                                   in op._params, activation, rows);
        }
    }

    /// <summary>The windows path's first phase: input rows copied into the padded buffer, its border zeroed.</summary>
    private sealed class PadCopy(CpuConv2D op, ZeroPadding2DParams padding) : IRowWork
    {
        /// <summary>Padded rows per chunk: a copy is too short to share finer.</summary>
        public const int MinRowsPerChunk = 8;

        public int RowCount => padding.RowCount;

        public void Execute(RowRange rows) => PoolingKernels.ZeroPad(op.Input.Span, op._paddedInput!.Span, in padding, rows);
    }

    /// <summary>Writes the patches of output rows into the whole-map buffer, with the implicit GEMM's gather.</summary>
    private sealed class PatchGather(CpuConv2D op) : IRowWork
    {
        public void Execute(RowRange rows)
        {
            var p = op._params;
            int depth = p.KernelHeight * p.KernelWidth * p.InputChannels, first = rows.Start * p.OutputWidth;
            Conv2DKernels.GatherPatches(op.Input.Span, op._patches!.Span.Slice(first * depth), in p,
                                        new RowRange(first, rows.End * p.OutputWidth));
        }
    }

    private readonly struct Call(CpuConv2D op, RowRange rows) : IActivationConsumer
    {
        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            if (op._positionWeights is not null)
            {
                WinogradProducts();
                return;
            }
            if (op.Path == Conv2DPath.Windows)
            {
                Windows(activation);
                return;
            }
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

        /// <summary>Winograd's middle phase: rows are (position, block of tiles) pairs, each a slice of one position's GEMM.</summary>
        private void WinogradProducts()
        {
            int blocks = op._tileBlocks, tiles = op._tiles;
            int channels = op._pointwise.InputChannels, filters = op._pointwise.OutputChannels;
            for (int row = rows.Start; row < rows.End;)
            {
                int position = row / blocks, block = row - position * blocks;
                int lastBlock = Math.Min(blocks, block + rows.End - row);
                var weights = op._positionWeights![position];
                var tileRange = new RowRange(block * PointwiseConvKernels.PixelBlock, Math.Min(tiles, lastBlock * PointwiseConvKernels.PixelBlock));
                PointwiseConvKernels.Nhwc(op._transformed!.Span.Slice(position * tiles * channels, tiles * channels), weights, default,
                                          op._products!.Span.Slice(position * tiles * filters, tiles * filters), in op._pointwise,
                                          default(IdentityActivation), tileRange, RowRange.All(weights.PanelCount));
                row += lastBlock - block;
            }
        }

        /// <summary>The split's units are output rows; each run of a panel group's rows is one call.</summary>
        private void Windows<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            var input = op._paddedInput is null ? op.Input.Span : op._paddedInput.Span;
            var residual = op._residual is null ? default : op._residual.Span;
            for (int row = rows.Start; row < rows.End;)
            {
                row = op._split.Item(row, rows.End, out var outputRows, out var panels);
                PointwiseConvKernels.NhwcWindows(input, op._packed!, residual, op.Output.Span, in op._windows, activation, outputRows, panels);
            }
        }

        /// <summary>The pixels of a run of pixel blocks.</summary>
        private RowRange Pixels(RowRange blocks)
            => new(blocks.Start * PointwiseConvKernels.PixelBlock, Math.Min(op._pointwise.Pixels, blocks.End * PointwiseConvKernels.PixelBlock));

        private void Pointwise<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            var packed = op._packed!;
            var residual = op._residual is null ? default : op._residual.Span;
            if (op._slots is not null)
            {
                ImplicitGemm(activation);
                return;
            }
            for (int row = rows.Start; row < rows.End;)
            {
                row = op._split.Item(row, rows.End, out var blocks, out var panelRange);
                var pixelRange = Pixels(blocks);
                var input = op._patches is null ? op.Input.Span : op._patches.Span;
                int chunk = op._chunkPixels, mapPixels = op._params.OutputHeight * op._params.OutputWidth;
                var scale = op._inputScale is null ? default : op._inputScale.Span;
                if (chunk == 0)
                    PointwiseConvKernels.Nhwc(input, packed, residual, op.Output.Span, in op._pointwise, activation,
                                              pixelRange, panelRange, scale, mapPixels);
                else
                    for (int m = pixelRange.Start; m < pixelRange.End; m += chunk)
                        for (int panel = panelRange.Start; panel < panelRange.End; panel++)
                            PointwiseConvKernels.Nhwc(input, packed, residual, op.Output.Span, in op._pointwise, activation,
                                                      new RowRange(m, Math.Min(pixelRange.End, m + chunk)), new RowRange(panel, panel + 1),
                                                      scale, mapPixels);
            }
        }

        /// <summary>
        /// The rows' pixel blocks, a slot of pixels at a time: their patches are gathered into this thread's slot, then
        /// multiplied by the packed kernel while they are still in L2.
        /// </summary>
        private void ImplicitGemm<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            var packed = op._packed!;
            int depth = op._pointwise.InputChannels, filters = op._pointwise.OutputChannels, slotPixels = op._slotPixels;
            // At most one Execute per pool thread runs at a time, so a free slot is always there.
            var taken = op._slotTaken!;
            int slot = 0;
            while (Interlocked.CompareExchange(ref taken[slot], 1, 0) != 0) slot = (slot + 1) % taken.Length;
            try
            {
                var buffer = op._slots!.Span.Slice(slot * slotPixels * depth, slotPixels * depth);
                var input = op.Input.Span;
                var output = op.Output.Span;
                var residual = op._residual is null ? default : op._residual.Span;
                for (int row = rows.Start; row < rows.End;)
                {
                    row = op._split.Item(row, rows.End, out var blocks, out var panelRange);
                    var pixelRange = Pixels(blocks);
                    int first = pixelRange.Start, end = pixelRange.End;
                    // Equal slots of whole blocks, so that a thread's share does not end in a sliver that streams
                    // every weight for a few pixels.
                    int slots = (end - first + slotPixels - 1) / slotPixels;
                    int step = ((end - first + slots - 1) / slots + PointwiseConvKernels.PixelBlock - 1)
                               / PointwiseConvKernels.PixelBlock * PointwiseConvKernels.PixelBlock;
                    for (int m = first; m < end; m += step)
                    {
                        int count = Math.Min(step, end - m);
                        Conv2DKernels.GatherPatches(input, buffer, in op._params, new RowRange(m, m + count));
                        var shape = new PointwiseConvParams(count, depth, filters);
                        var target = output.Slice(m * filters, count * filters);
                        var sum = residual.IsEmpty ? default : residual.Slice(m * filters, count * filters);
                        if (op._chunkPixels == 0)
                        {
                            PointwiseConvKernels.Nhwc(buffer, packed, sum, target, in shape, activation, new RowRange(0, count), panelRange);
                            continue;
                        }
                        // Weights beyond L2: one panel at a time passes over the whole slot (see ChunkPixels).
                        for (int panel = panelRange.Start; panel < panelRange.End; panel++)
                            PointwiseConvKernels.Nhwc(buffer, packed, sum, target, in shape, activation, new RowRange(0, count),
                                                      new RowRange(panel, panel + 1));
                    }
                }
            }
            finally
            {
                Volatile.Write(ref taken[slot], 0);
            }
        }
    }
}

/// <summary>How a <see cref="CpuConv2D"/> computes its output.</summary>
internal enum Conv2DPath
{
    /// <summary>
    /// The direct kernel over output rows (<see cref="Conv2DKernels.Nhwc"/>; not chosen since <see cref="Windows"/>
    /// matched or beat it on every shape measured: kept to compare against, see Conv2DPathBenchmarks).
    /// </summary>
    Direct,

    /// <summary>The packed GEMM on the input itself: 1x1, stride 1, unpadded.</summary>
    Pointwise,

    /// <summary>Every patch gathered into a whole-map buffer first, then the packed GEMM (not chosen: kept to compare against, see Conv2DPathBenchmarks).</summary>
    Patches,

    /// <summary>
    /// Patches gathered a slot of pixels at a time per thread, each multiplied while in L2 (chosen for windows dilated
    /// along the width, which <see cref="Windows"/> cannot read as one run).
    /// </summary>
    ImplicitGemm,

    /// <summary>
    /// The packed GEMM's micro-kernels reading each output pixel's window straight from the input (a padded copy when
    /// the convolution pads): no gathered patches (<see cref="PointwiseConvKernels.NhwcWindows"/>).
    /// </summary>
    Windows,

    /// <summary>Winograd F(2x2, 3x3): transformed input, 16 packed GEMMs, transformed back (<see cref="WinogradKernels"/>).</summary>
    Winograd,
}
