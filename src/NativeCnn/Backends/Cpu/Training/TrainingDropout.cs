using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// Dropout in training (<see cref="DropoutOp"/>): a mask of <c>0</c> or <c>1 / (1 − rate)</c> per value (or per
/// sample), drawn from a SplitMix64 stream seeded by the layer's seed and the step number, so two runs of the same
/// steps drop the same values; backward multiplies by the same mask. Outside a training step it copies.
/// </summary>
internal sealed class TrainingDropout : CpuTrainingOp
{
    private readonly DropoutOp _op;
    private readonly float[] _mask;
    private readonly int _valuesPerMask;
    private long _step;

    public TrainingDropout(DropoutOp op, TrainingBinding binding, WorkerPool pool) : base(binding, pool, 1)
    {
        ExpectShape(Output.Shape, Input.Shape, "output");
        _op = op;
        int batch = Input.Shape.Batch;
        _mask = new float[op.PerSample ? batch : Input.Length];
        _valuesPerMask = op.PerSample ? Input.Length / Math.Max(1, batch) : 1;
    }

    public override void Forward(bool training)
    {
        if (!training)
        {
            Input.Span.CopyTo(Output.Span);
            return;
        }
        ulong state = (ulong)(uint)_op.Seed << 32 ^ (ulong)_step++ * 0x9E3779B97F4A7C15UL;
        float keep = (float)(1 / (1 - _op.Rate));
        for (int m = 0; m < _mask.Length; m++)
        {
            // SplitMix64, then the top 24 bits as a uniform float in [0, 1): kept where it is at least the rate, as Keras.
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            float uniform = (z >> 40) * (1f / (1 << 24));
            _mask[m] = uniform >= _op.Rate ? keep : 0f;
        }
        Apply(Input.Span, Output.Span, overwrite: true);
    }

    public override void Backward()
    {
        if (InputGradient is { } dx) Apply(OutputGradient.Span, dx.Span, overwrite: false);
    }

    // to = from · mask (or to += from · mask), the mask broadcast over each sample when it is per sample.
    private void Apply(ReadOnlySpan<float> from, Span<float> to, bool overwrite)
    {
        if (_valuesPerMask == 1)
        {
            if (overwrite) TensorPrimitives.Multiply(from, _mask, to);
            else TensorPrimitives.FusedMultiplyAdd(from, _mask, to, to);
            return;
        }
        for (int n = 0; n < _mask.Length; n++)
        {
            var source = from.Slice(n * _valuesPerMask, _valuesPerMask);
            var target = to.Slice(n * _valuesPerMask, _valuesPerMask);
            if (overwrite) TensorPrimitives.Multiply(source, _mask[n], target);
            else TensorPrimitives.FusedMultiplyAdd(source, _mask[n], target, target);
        }
    }
}
