using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>Global pooling; rows are images. The output is <c>(N, C)</c> or <c>(N, 1, 1, C)</c>.</summary>
internal sealed class CpuGlobalPooling2D : CpuOp
{
    private readonly PoolingMode _mode;
    private readonly int _pixels, _channels;

    public CpuGlobalPooling2D(GlobalPooling2DOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 0)
    {
        var i = ExpectNhwcInput();
        var o = Output.Shape;
        if (o.Batch != i.Batch || o.Channels != i.Channels || o.ElementCount != (long)i.Batch * i.Channels)
            throw Fail($"expected output ({i.Batch}, {i.Channels}) or ({i.Batch}, 1, 1, {i.Channels}), got {o}");
        _mode = op.Mode;
        _pixels = i.Height * i.Width;
        _channels = i.Channels;
    }

    protected override int RowCount => Input.Shape.Batch;

    public override void Execute(RowRange rows)
    {
        int imageLength = _pixels * _channels;
        for (int n = rows.Start; n < rows.End; n++)
        {
            var input = Input.Span.Slice(n * imageLength, imageLength);
            var output = Output.Span.Slice(n * _channels, _channels);
            if (_mode == PoolingMode.Max) PoolingKernels.GlobalMaxPool(input, output, _pixels);
            else PoolingKernels.GlobalAveragePool(input, output, _pixels);
        }
    }
}
