using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// A convolution on the packed GEMM's micro-kernels, reading each output pixel's window straight from the input (from a
/// padded copy of it when the convolution pads), undilated along the width so that a window row is one contiguous run.
/// Work rows are panel groups × runs of output rows.
/// </summary>
internal sealed class CpuWindowsConv2D : CpuConv2D
{
    private readonly PackedPointwiseWeights _packed;
    private readonly GemmSplit _split;
    private readonly Conv2DParams _windows;
    private readonly Tensor? _paddedInput;
    private readonly PadCopy? _padCopy;

    public CpuWindowsConv2D(Conv2DOp op, OpBinding binding, WorkerPool pool) : base(op, binding, pool, Conv2DPath.Windows)
    {
        if (op.DilationWidth != 1) throw Fail($"{op} is dilated along the width, which the windows path cannot read contiguously");
        var p = Params;
        var pad = op.Padding;
        // WindowOutputSize has checked that the padded extents fit 32 bits.
        int paddedHeight = p.InputHeight + pad.Top + pad.Bottom, paddedWidth = p.InputWidth + pad.Left + pad.Right;
        if (pad != Padding2D.None)
        {
            // A descriptor's pads can be far larger than any layer's output: refuse the copy before allocating it.
            long elements = WindowChecks.Count(p.Batch, paddedHeight, paddedWidth, p.InputChannels), available = Tensors.TensorLimits.AvailableBytes;
            if (elements > int.MaxValue || elements * sizeof(float) > available)
                throw Fail($"the padded copy of input {Input.Shape} ({p.Batch} x {paddedHeight} x {paddedWidth} x {p.InputChannels}) would need {elements} elements, "
                           + $"more than a tensor holds ({int.MaxValue}) or the {available} bytes this process can use");
            _paddedInput = new Tensor(TensorShape.Nhwc(p.Batch, paddedHeight, paddedWidth, p.InputChannels));
            _padCopy = new PadCopy(this, new ZeroPadding2DParams(p.Batch, p.InputHeight, p.InputWidth, p.InputChannels, pad));
        }
        _windows = p with { InputHeight = paddedHeight, InputWidth = paddedWidth, PadTop = 0, PadLeft = 0 };
        int depth = op.KernelHeight * op.KernelWidth * p.InputChannels;
        _packed = new PackedPointwiseWeights(Kernel.Span, Bias, depth, op.Filters);
        _split = GemmSplit.Choose(p.RowCount, _packed.PanelCount, (long)depth * op.Filters * sizeof(float),
                                  (long)Input.Shape.ElementCount * sizeof(float), pool.ThreadCount);
    }

    protected override int RowCount => _split.RowCount;

    public override void Run()
    {
        if (_padCopy is not null) Pool.Run(_padCopy, _padCopy.RowCount, PadCopy.MinRowsPerChunk);
        base.Run();
    }

    /// <summary>The split's units are output rows; each run of a panel group's rows is one call.</summary>
    protected override void Execute<TActivation>(RowRange rows, TActivation activation)
    {
        var input = _paddedInput is null ? Input.Span : _paddedInput.Span;
        for (int row = rows.Start; row < rows.End;)
        {
            row = _split.Item(row, rows.End, out var outputRows, out var panels);
            PointwiseConvKernels.NhwcWindows(input, _packed, Residual, Output.Span, in _windows, activation, outputRows, panels);
        }
    }

    public override void Dispose()
    {
        _packed.Dispose();
        _paddedInput?.Dispose();
    }

    /// <summary>The first phase: input rows copied into the padded buffer, its border zeroed.</summary>
    private sealed class PadCopy(CpuWindowsConv2D op, ZeroPadding2DParams padding) : IRowWork
    {
        /// <summary>Padded rows per chunk: a copy is too short to share finer.</summary>
        public const int MinRowsPerChunk = 8;

        public int RowCount => padding.RowCount;

        public void Execute(RowRange rows) => PoolingKernels.ZeroPad(op.Input.Span, op._paddedInput!.Span, in padding, rows);
    }
}
