using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// BatchNormalization in training mode (<see cref="BatchNormalizationOp"/>): batch statistics, Keras's moving-average
/// update, and the backward pass through the statistics. Outside a training step it normalizes with the moving
/// statistics, as at inference.
/// </summary>
internal sealed class TrainingBatchNormalization : CpuTrainingOp
{
    private readonly BatchNormalizationOp _op;
    private readonly int _pixels, _channels, _gamma, _beta, _movingMean, _movingVariance;
    private readonly float[] _mean, _variance, _inverseStd, _scale, _shift;

    public TrainingBatchNormalization(BatchNormalizationOp op, TrainingBinding binding, WorkerPool pool) : base(binding, pool, 1)
    {
        _op = op;
        ExpectShape(Output.Shape, Input.Shape, "output");
        _channels = Input.Shape.Channels;
        _pixels = Input.Length / Math.Max(1, _channels);
        int next = 0;
        _gamma = op.Scale ? next++ : -1;
        _beta = op.Center ? next++ : -1;
        _movingMean = next++;
        _movingVariance = next++;
        if (Weights.Count != next) throw Fail($"expected {next} weights (gamma/beta as configured, moving_mean, moving_variance), got {Weights.Count}");
        foreach (var weight in Weights) ExpectShape(weight.Shape, new TensorShape(_channels), "a per-channel weight");
        _mean = new float[_channels];
        _variance = new float[_channels];
        _inverseStd = new float[_channels];
        _scale = new float[_channels];
        _shift = new float[_channels];
    }

    private ReadOnlySpan<float> Gamma => _gamma < 0 ? default : Weights[_gamma].Span;
    private ReadOnlySpan<float> Beta => _beta < 0 ? default : Weights[_beta].Span;

    public override void Forward(bool training)
    {
        if (training)
        {
            BatchNormalizationTrainingKernels.Forward(Input.Span, Gamma, Beta, Output.Span, _mean, _variance, _inverseStd, _pixels, (float)_op.Epsilon);
            BatchNormalizationTrainingKernels.UpdateMovingStatistics(Weights[_movingMean].Span, Weights[_movingVariance].Span, _mean, _variance, _op.Momentum);
            return;
        }
        InferenceScaleShift();
        ElementwiseKernels.ChannelAffine(Input.Span, _scale, _shift, Output.Span, default(IdentityActivation));
    }

    // Inference BatchNormalization's scale and shift, in float64 rounded once (the layer's own inference form).
    private void InferenceScaleShift()
    {
        ReadOnlySpan<float> gamma = Gamma, beta = Beta, mean = Weights[_movingMean].Span, variance = Weights[_movingVariance].Span;
        for (int c = 0; c < _channels; c++)
        {
            double s = (gamma.IsEmpty ? 1.0 : gamma[c]) / Math.Sqrt(variance[c] + _op.Epsilon);
            _scale[c] = (float)s;
            _shift[c] = (float)((beta.IsEmpty ? 0.0 : beta[c]) - mean[c] * s);
        }
    }

    public override void Backward()
    {
        var gammaGradient = _gamma < 0 || WeightGradients[_gamma] is null ? default : WeightGradients[_gamma]!.Span;
        var betaGradient = _beta < 0 || WeightGradients[_beta] is null ? default : WeightGradients[_beta]!.Span;
        // The input gradient is summed into (a fan-out adds what each reader contributes); none when nothing before is trained.
        BatchNormalizationTrainingKernels.Backward(Input.Span, OutputGradient.Span, Gamma, _mean, _inverseStd, InputGradient is { } dx ? dx.Span : default,
                                                   gammaGradient, betaGradient, _pixels, accumulate: true, accumulateInputGradient: true);
    }
}
