namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// Concatenation along one axis: the output is <c>outer</c> rows (the dimensions before the axis) of each input's
/// contiguous slab in turn, so every row is one block copy per input.
/// </summary>
internal sealed class CpuConcatenate : CpuOp
{
    private readonly int _outerCount;
    private readonly int[] _slabLengths;
    private readonly int[] _slabOffsets;
    private readonly int _rowLength;

    public CpuConcatenate(ConcatenateOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, -1, 0)
    {
        if (Inputs.Length < 2) throw Fail($"expected at least 2 inputs, got {Inputs.Length}");
        var first = Inputs[0].Shape;
        if (op.Axis < 1 || op.Axis >= first.Rank) throw Fail($"axis {op.Axis} is not a non-batch axis of {first}");
        long joined = 0;
        for (int i = 0; i < Inputs.Length; i++)
        {
            var shape = Inputs[i].Shape;
            bool agrees = shape.Rank == first.Rank;
            for (int d = 0; agrees && d < first.Rank; d++) agrees = d == op.Axis || shape[d] == first[d];
            if (!agrees) throw Fail($"input {i} is {shape}, which differs from input 0 ({first}) outside axis {op.Axis}");
            joined += shape[op.Axis];
        }
        var dims = first.ToArray();
        dims[op.Axis] = joined <= int.MaxValue ? (int)joined : throw Fail($"the joined axis holds {joined} entries, more than 32 bits");
        ExpectShape(Output.Shape, new TensorShape(dims), "output");

        long inner = 1, outer = 1;
        for (int d = op.Axis + 1; d < first.Rank; d++) inner *= first[d];
        for (int d = 0; d < op.Axis; d++) outer *= first[d];
        _outerCount = (int)outer; // at most the output's element count, which the tensor holds in 32 bits
        _slabLengths = new int[Inputs.Length];
        _slabOffsets = new int[Inputs.Length];
        int offset = 0;
        for (int i = 0; i < Inputs.Length; i++)
        {
            _slabLengths[i] = (int)(Inputs[i].Shape[op.Axis] * inner);
            _slabOffsets[i] = offset;
            offset += _slabLengths[i];
        }
        _rowLength = offset;
    }

    protected override int RowCount => _outerCount;

    protected override int MinRowsPerChunk => Math.Max(1, 16384 / Math.Max(1, _rowLength));

    public override void Execute(RowRange rows)
    {
        var output = Output.Span;
        for (int row = rows.Start; row < rows.End; row++)
        {
            for (int i = 0; i < Inputs.Length; i++)
            {
                int length = _slabLengths[i];
                Inputs[i].Span.Slice(row * length, length).CopyTo(output.Slice(row * _rowLength + _slabOffsets[i], length));
            }
        }
    }
}
