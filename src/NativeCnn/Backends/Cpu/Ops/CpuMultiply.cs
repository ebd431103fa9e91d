using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// Product of two inputs: same shapes element-wise, or <c>(N, H, W, C) · (N, 1, 1, C)</c> per channel (the excite step of
/// squeeze-and-excitation). Rows are image rows.
/// </summary>
internal sealed class CpuMultiply : CpuOp
{
    private readonly bool _perChannel;
    private readonly int _rowLength, _rowsPerImage, _channels;

    public CpuMultiply(OpBinding binding, WorkerPool pool) : base(binding, pool, 2, 0)
    {
        TensorShape left = Inputs[0].Shape, right = Inputs[1].Shape;
        ExpectShape(Output.Shape, left, "output");
        if (left == right)
        {
            _rowLength = left.Channels;
            _rowsPerImage = 1;
        }
        else if (left.Rank == 4 && right == TensorShape.Nhwc(left.Batch, 1, 1, left.Channels))
        {
            _perChannel = true;
            _channels = left.Channels;
            _rowLength = left.Width * left.Channels;
            _rowsPerImage = left.Height;
        }
        else
        {
            throw Fail($"cannot multiply {left} by {right}: shapes must be equal or the second (N, 1, 1, C)");
        }
    }

    protected override int RowCount => _rowLength == 0 ? 0 : Output.Length / _rowLength;

    protected override int MinRowsPerChunk => _perChannel ? 1 : 64;

    public override void Execute(RowRange rows)
    {
        int start = rows.Start * _rowLength, end = rows.End * _rowLength;
        if (!_perChannel)
        {
            ElementwiseKernels.Multiply(Inputs[0].Span[start..end], Inputs[1].Span[start..end], Output.Span[start..end]);
            return;
        }
        for (int r = rows.Start; r < rows.End; r++)
        {
            int image = r / _rowsPerImage;
            var scale = Inputs[1].Span.Slice(image * _channels, _channels);
            ElementwiseKernels.MultiplyByChannel(Inputs[0].Span.Slice(r * _rowLength, _rowLength), scale, Output.Span.Slice(r * _rowLength, _rowLength));
        }
    }
}
