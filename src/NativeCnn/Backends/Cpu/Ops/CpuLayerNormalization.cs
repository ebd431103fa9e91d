using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// Layer normalization over the last axis, one row (position) at a time: mean and biased variance accumulated in float64,
/// then Keras's <c>x · inv + (beta − mean · inv)</c> with <c>inv = gamma / sqrt(variance + ε)</c>, as Keras 3 and
/// <c>tf.nn.batch_normalization</c> compute it.
/// </summary>
/// <remarks>Not a hot path of the architectures here, so it is plain scalar code; a SIMD version pays only for transformer-sized rows.</remarks>
internal sealed class CpuLayerNormalization : CpuOp
{
    private readonly LayerNormalizationOp _op;
    private readonly int _length;
    private readonly Tensor? _gamma, _beta;

    public CpuLayerNormalization(LayerNormalizationOp op, OpBinding binding, WorkerPool pool)
        : base(binding, pool, 1, (op.Scale ? 1 : 0) + (op.Center ? 1 : 0))
    {
        _op = op;
        ExpectShape(Output.Shape, Input.Shape, "output");
        _length = Input.Shape.Channels;
        if (_length < 1) throw Fail($"the last axis of {Input.Shape} is empty");
        int next = 0;
        if (op.Scale) ExpectLength(_gamma = binding.Weights[next++], _length, "gamma");
        if (op.Center) ExpectLength(_beta = binding.Weights[next], _length, "beta");
    }

    protected override int RowCount => Input.Length / _length;

    protected override int MinRowsPerChunk => Math.Max(1, 4096 / _length);

    public override void Execute(RowRange rows)
    {
        var gamma = _gamma is null ? default : _gamma.Span;
        var beta = _beta is null ? default : _beta.Span;
        for (int row = rows.Start; row < rows.End; row++)
        {
            var x = Input.Span.Slice(row * _length, _length);
            var y = Output.Span.Slice(row * _length, _length);
            var (mean, inverse) = LayerNormalizationBackwardKernels.Statistics(x, _op.Epsilon);
            for (int c = 0; c < _length; c++)
            {
                float scale = gamma.IsEmpty ? inverse : inverse * gamma[c];
                float shift = (beta.IsEmpty ? 0f : beta[c]) - mean * scale;
                y[c] = x[c] * scale + shift;
            }
        }
    }
}
