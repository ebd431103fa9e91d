using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// PReLU over rows (image rows, or batch rows of a (batch, features) input). The slopes are broadcast once, here, to
/// whole rows (<c>(alphaHeight, W · C)</c>), so each row is one element-wise call.
/// </summary>
internal sealed class CpuPRelu : CpuOp
{
    private readonly float[] _alphaRows;
    private readonly int _rowLength, _rowsPerImage, _alphaRowCount;

    public CpuPRelu(OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 1)
    {
        var input = Input.Shape;
        ExpectShape(Output.Shape, input, "output");
        var alpha = binding.Weights[0];
        var a = alpha.Shape;
        if (input.Rank == 4 && a.Rank == 3 && Fits(a[0], input.Height) && Fits(a[1], input.Width) && Fits(a[2], input.Channels))
        {
            _rowLength = input.Width * input.Channels;
            _rowsPerImage = input.Height;
            _alphaRowCount = a[0];
            _alphaRows = new float[(long)_alphaRowCount * _rowLength];
            var source = alpha.Span;
            for (int h = 0; h < a[0]; h++)
                for (int w = 0; w < input.Width; w++)
                    for (int c = 0; c < input.Channels; c++)
                        _alphaRows[(h * input.Width + w) * input.Channels + c] = source[(h * a[1] + (a[1] == 1 ? 0 : w)) * a[2] + (a[2] == 1 ? 0 : c)];
        }
        else if (input.Rank == 2 && a.Rank == 1 && Fits(a[0], input.Channels))
        {
            _rowLength = input.Channels;
            _rowsPerImage = 1;
            _alphaRowCount = 1;
            _alphaRows = new float[_rowLength];
            for (int f = 0; f < _rowLength; f++) _alphaRows[f] = alpha.Span[a[0] == 1 ? 0 : f];
        }
        else
        {
            throw Fail($"alpha {a} does not broadcast over a sample of {input} (each axis the input's size or 1)");
        }
    }

    private static bool Fits(int alpha, int input) => alpha == input || alpha == 1;

    protected override int RowCount => _rowLength == 0 ? 0 : Output.Length / _rowLength;

    protected override int MinRowsPerChunk => 4;

    public override void Execute(RowRange rows)
    {
        for (int r = rows.Start; r < rows.End; r++)
        {
            int alphaRow = _alphaRowCount == 1 ? 0 : r % _rowsPerImage;
            ElementwiseKernels.PRelu(Input.Span.Slice(r * _rowLength, _rowLength), _alphaRows.AsSpan(alphaRow * _rowLength, _rowLength),
                                     Output.Span.Slice(r * _rowLength, _rowLength));
        }
    }
}
