namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>Cropping: each output row is one contiguous block of an input row.</summary>
internal sealed class CpuCropping2D : CpuOp
{
    private readonly int _outputHeight, _inputHeight, _top, _inputRowLength, _offset, _outputRowLength;

    public CpuCropping2D(Cropping2DOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 0)
    {
        var i = ExpectNhwcInput();
        var crop = op.Cropping;
        long height = (long)i.Height - crop.Top - crop.Bottom, width = (long)i.Width - crop.Left - crop.Right;
        if (crop.Top < 0 || crop.Bottom < 0 || crop.Left < 0 || crop.Right < 0 || height < 1 || width < 1)
            throw Fail($"cropping {crop} of input {i} must be non-negative and leave at least one row and column, got {height} x {width}");
        ExpectShape(Output.Shape, TensorShape.Nhwc(i.Batch, (int)height, (int)width, i.Channels), "output");
        _outputHeight = (int)height;
        _inputHeight = i.Height;
        _top = crop.Top;
        _inputRowLength = i.Width * i.Channels;
        _offset = crop.Left * i.Channels;
        _outputRowLength = (int)width * i.Channels;
    }

    protected override int RowCount => Output.Shape.Batch * _outputHeight;

    protected override int MinRowsPerChunk => 8;

    public override void Execute(RowRange rows)
    {
        for (int row = rows.Start; row < rows.End; row++)
        {
            int n = row / _outputHeight, y = row - n * _outputHeight + _top;
            Input.Span.Slice((n * _inputHeight + y) * _inputRowLength + _offset, _outputRowLength)
                .CopyTo(Output.Span.Slice(row * _outputRowLength, _outputRowLength));
        }
    }
}
