using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>Nearest or bilinear up-sampling by whole factors; the bilinear sample positions are computed once, here.</summary>
internal sealed class CpuUpSampling2D : CpuOp
{
    private readonly UpSampling2DParams _params;
    private readonly Interpolation _interpolation;
    private readonly BilinearAxis? _rows, _columns;

    public CpuUpSampling2D(UpSampling2DOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 0)
    {
        var i = ExpectNhwcInput();
        if (op.HeightFactor < 1 || op.WidthFactor < 1) throw Fail($"up-sampling factors must be at least 1, got {op.HeightFactor} x {op.WidthFactor}");
        long height = (long)i.Height * op.HeightFactor, width = (long)i.Width * op.WidthFactor;
        if (height > int.MaxValue || width > int.MaxValue) throw Fail($"up-sampling {i} by {op.HeightFactor} x {op.WidthFactor} gives {height} x {width}, more than 32 bits");
        _params = new UpSampling2DParams(i.Batch, i.Height, i.Width, i.Channels, op.HeightFactor, op.WidthFactor);
        ExpectShape(Output.Shape, TensorShape.Nhwc(i.Batch, (int)height, (int)width, i.Channels), "output");
        _interpolation = op.Interpolation;
        if (op.Interpolation == Interpolation.Bilinear && i.Height > 0 && i.Width > 0)
        {
            _rows = new BilinearAxis(i.Height, op.HeightFactor);
            _columns = new BilinearAxis(i.Width, op.WidthFactor);
        }
    }

    protected override int RowCount => _params.RowCount;

    protected override int MinRowsPerChunk => 4;

    public override void Execute(RowRange rows)
    {
        if (_interpolation == Interpolation.Nearest || _rows is null) ResamplingKernels.Nearest(Input.Span, Output.Span, in _params, rows);
        else ResamplingKernels.Bilinear(Input.Span, Output.Span, in _params, _rows, _columns!, rows);
    }
}
