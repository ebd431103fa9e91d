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
        ExpectShape(Output.Shape, Input.Shape, "output");
        var alpha = binding.Weights[0];
        if (!TryLayout(Input.Shape, alpha.Shape, out _rowLength, out _rowsPerImage, out _alphaRowCount))
            throw Fail($"alpha {alpha.Shape} does not broadcast over a sample of {Input.Shape} (each axis the input's size or 1)");
        _alphaRows = new float[(long)_alphaRowCount * _rowLength];
        BroadcastRows(alpha.Span, alpha.Shape, Input.Shape, _alphaRows);
    }

    /// <summary>
    /// How alpha <paramref name="alpha"/> broadcasts over rows of <paramref name="input"/> (image rows of <c>W · C</c>, or
    /// batch rows of features): the row length, the rows per image, and the distinct slope rows (1 when the height is shared).
    /// </summary>
    internal static bool TryLayout(TensorShape input, TensorShape alpha, out int rowLength, out int rowsPerImage, out int alphaRowCount)
    {
        if (input.Rank == 4 && alpha.Rank == 3 && Fits(alpha[0], input.Height) && Fits(alpha[1], input.Width) && Fits(alpha[2], input.Channels))
        {
            (rowLength, rowsPerImage, alphaRowCount) = (input.Width * input.Channels, input.Height, alpha[0]);
            return true;
        }
        if (input.Rank == 2 && alpha.Rank == 1 && Fits(alpha[0], input.Channels))
        {
            (rowLength, rowsPerImage, alphaRowCount) = (input.Channels, 1, 1);
            return true;
        }
        (rowLength, rowsPerImage, alphaRowCount) = (0, 0, 0);
        return false;
    }

    /// <summary>Writes the slopes broadcast to whole rows, <c>(alphaRowCount, rowLength)</c> (<see cref="TryLayout"/>).</summary>
    internal static void BroadcastRows(ReadOnlySpan<float> alpha, TensorShape alphaShape, TensorShape input, Span<float> rows)
    {
        if (input.Rank == 2)
        {
            for (int f = 0; f < input.Channels; f++) rows[f] = alpha[alphaShape[0] == 1 ? 0 : f];
            return;
        }
        var a = alphaShape;
        for (int h = 0; h < a[0]; h++)
            for (int w = 0; w < input.Width; w++)
                for (int c = 0; c < input.Channels; c++)
                    rows[(h * input.Width + w) * input.Channels + c] = alpha[(h * a[1] + (a[1] == 1 ? 0 : w)) * a[2] + (a[2] == 1 ? 0 : c)];
    }

    /// <summary>The transpose of <see cref="BroadcastRows"/>: adds each row value back into the slope it came from (the gradient over shared axes).</summary>
    internal static void FoldRows(ReadOnlySpan<float> rows, TensorShape alphaShape, TensorShape input, Span<float> alpha)
    {
        if (input.Rank == 2)
        {
            for (int f = 0; f < input.Channels; f++) alpha[alphaShape[0] == 1 ? 0 : f] += rows[f];
            return;
        }
        var a = alphaShape;
        for (int h = 0; h < a[0]; h++)
            for (int w = 0; w < input.Width; w++)
                for (int c = 0; c < input.Channels; c++)
                    alpha[(h * a[1] + (a[1] == 1 ? 0 : w)) * a[2] + (a[2] == 1 ? 0 : c)] += rows[(h * input.Width + w) * input.Channels + c];
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
