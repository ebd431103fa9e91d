using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

internal sealed class CpuPooling2D : CpuOp
{
    private readonly Pooling2DParams _params;
    private readonly PoolingMode _mode;

    public CpuPooling2D(Pooling2DOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 0)
    {
        var i = ExpectNhwcInput();
        int outH = WindowOutputSize("height", i.Height, op.Padding.Top, op.Padding.Bottom, op.PoolHeight, op.StrideHeight, 1);
        int outW = WindowOutputSize("width", i.Width, op.Padding.Left, op.Padding.Right, op.PoolWidth, op.StrideWidth, 1);
        ExpectShape(Output.Shape, TensorShape.Nhwc(i.Batch, outH, outW, i.Channels), "output");
        _mode = op.Mode;
        if (op.PaddedCellsAreZeros && _mode != PoolingMode.Max) throw Fail("padded cells count as zeros only for max pooling");
        _params = new Pooling2DParams(i.Batch, i.Height, i.Width, i.Channels, outH, outW,
            op.PoolHeight, op.PoolWidth, op.StrideHeight, op.StrideWidth, op.Padding.Top, op.Padding.Left, op.PaddedCellsAreZeros);
    }

    protected override int RowCount => _params.RowCount;

    public override void Execute(RowRange rows)
    {
        if (_mode == PoolingMode.Max) PoolingKernels.MaxPool(Input.Span, Output.Span, in _params, rows);
        else PoolingKernels.AveragePool(Input.Span, Output.Span, in _params, rows);
    }
}
