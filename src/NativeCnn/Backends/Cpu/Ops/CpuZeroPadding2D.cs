using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tensors;

namespace NativeCnn.Backends.Cpu.Ops;

internal sealed class CpuZeroPadding2D : CpuOp
{
    private readonly ZeroPadding2DParams _params;

    public CpuZeroPadding2D(ZeroPadding2DOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 0)
    {
        var i = Input.Shape;
        if (i.Rank != 4) throw Fail($"expected an NHWC input, got {i}");
        _params = new ZeroPadding2DParams(i.Batch, i.Height, i.Width, i.Channels, op.Padding);
        ExpectShape(Output.Shape, TensorShape.Nhwc(i.Batch, _params.OutputHeight, _params.OutputWidth, i.Channels), "output");
    }

    protected override int RowCount => _params.RowCount;

    protected override int MinRowsPerChunk => 8;

    public override void Execute(RowRange rows) => PoolingKernels.ZeroPad(Input.Span, Output.Span, in _params, rows);
}
