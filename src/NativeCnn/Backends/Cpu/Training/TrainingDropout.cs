using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// Dropout in training (<see cref="DropoutOp"/>): a mask of <c>0</c> or <c>1 / (1 − rate)</c> per value (or per
/// sample), drawn by <see cref="ElementwiseBackwardKernels.DropoutMask"/> from the layer's seed and the step number, so
/// two runs of the same steps drop the same values; backward multiplies by the same mask. Outside a training step it copies.
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
        // A fresh stream per step: the layer's seed and the step number, mixed so that neighbouring steps do not overlap.
        ulong seed = (ulong)(uint)_op.Seed << 32 ^ (ulong)_step++ * 0x9E3779B97F4A7C15UL;
        ElementwiseBackwardKernels.DropoutMask(_mask, (float)_op.Rate, seed, offset: 0);
        Apply(Input.Span, Output.Span, overwrite: true);
    }

    public override void Backward()
    {
        if (InputGradient is { } dx) Apply(OutputGradient.Span, dx.Span, overwrite: false);
    }

    // to = from · mask (or to += from · mask), the mask broadcast over each sample when it is per sample.
    private void Apply(ReadOnlySpan<float> from, Span<float> to, bool overwrite)
    {
        if (_valuesPerMask == 1) ElementwiseBackwardKernels.Dropout(from, _mask, to, accumulate: !overwrite);
        else ElementwiseBackwardKernels.MultiplyBySample(from, _mask, to, accumulate: !overwrite);
    }
}
