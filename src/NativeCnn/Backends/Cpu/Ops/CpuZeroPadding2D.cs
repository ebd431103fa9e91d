using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

internal sealed class CpuZeroPadding2D : CpuOp
{
    private readonly ZeroPadding2DParams _params;

    public CpuZeroPadding2D(ZeroPadding2DOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 0)
    {
        var i = ExpectNhwcInput();
        var pad = op.Padding;
        long height = (long)i.Height + pad.Top + pad.Bottom, width = (long)i.Width + pad.Left + pad.Right;
        if (pad.Top < 0 || pad.Bottom < 0 || pad.Left < 0 || pad.Right < 0 || height > int.MaxValue || width > int.MaxValue)
            throw Fail($"padding {pad} of input {i} must be non-negative and give 32-bit sizes, got {height} x {width}");
        _params = new ZeroPadding2DParams(i.Batch, i.Height, i.Width, i.Channels, op.Padding);
        ExpectShape(Output.Shape, TensorShape.Nhwc(i.Batch, _params.OutputHeight, _params.OutputWidth, i.Channels), "output");
    }

    protected override int RowCount => _params.RowCount;

    protected override int MinRowsPerChunk => 8;

    public override void Execute(RowRange rows) => PoolingKernels.ZeroPad(Input.Span, Output.Span, in _params, rows);
}
