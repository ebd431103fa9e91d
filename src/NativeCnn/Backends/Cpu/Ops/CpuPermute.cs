namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// Keras <c>Permute</c> as a strided gather over output rows (<c>batch · output axis 1</c>); the innermost output axis
/// is copied element by element, or as one block when it is the input's innermost axis too.
/// </summary>
internal sealed class CpuPermute : CpuOp
{
    // Sample dimensions and input strides, padded to three sample axes (rank 4) with leading 1s.
    private readonly int[] _outputDims = new int[3];
    private readonly long[] _inputStrides = new long[3];
    private readonly long _sampleLength;
    private readonly int _batch;

    public CpuPermute(PermuteOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 0)
    {
        var input = Input.Shape;
        int axes = input.Rank - 1;
        if (op.Dims.Count != axes || op.Dims.Order().Select((d, i) => d == i + 1).Any(ok => !ok))
            throw Fail($"dims ({string.Join(", ", op.Dims)}) are not a permutation of 1..{axes} for {input}");
        var expected = new int[input.Rank];
        expected[0] = input.Batch;
        for (int i = 0; i < axes; i++) expected[i + 1] = input[op.Dims[i]];
        ExpectShape(Output.Shape, new TensorShape(expected), "output");
        var strides = new long[input.Rank];
        strides[^1] = 1;
        for (int d = input.Rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * input[d + 1];
        int pad = 3 - axes;
        for (int i = 0; i < 3; i++)
        {
            _outputDims[i] = i < pad ? 1 : expected[i - pad + 1];
            _inputStrides[i] = i < pad ? 0 : strides[op.Dims[i - pad]];
        }
        _sampleLength = strides[0];
        _batch = input.Batch;
    }

    protected override int RowCount => _batch * _outputDims[0];

    protected override int MinRowsPerChunk => 4;

    public override void Execute(RowRange rows)
    {
        var input = Input.Span;
        var output = Output.Span;
        int d1 = _outputDims[1], d2 = _outputDims[2];
        long s0 = _inputStrides[0], s1 = _inputStrides[1], s2 = _inputStrides[2];
        for (int row = rows.Start; row < rows.End; row++)
        {
            int n = row / _outputDims[0], i0 = row - n * _outputDims[0];
            long source = n * _sampleLength + i0 * s0;
            int o = row * d1 * d2;
            for (int i1 = 0; i1 < d1; i1++)
            {
                long start = source + i1 * s1;
                if (s2 == 1)
                {
                    input.Slice((int)start, d2).CopyTo(output.Slice(o, d2));
                    o += d2;
                    continue;
                }
                for (int i2 = 0; i2 < d2; i2++) output[o++] = input[(int)(start + i2 * s2)];
            }
        }
    }
}
