using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// BatchNormalization in training mode (<see cref="BatchNormalizationOp"/>): batch statistics, Keras's moving-average
/// update, and the backward pass through the statistics. Outside a training step it normalizes with the moving
/// statistics, as at inference. The statistics and the gradient sums split the channels between the pool's threads (in
/// groups of <see cref="ChannelGroup"/>; each channel's float64 sum runs over the pixels in order, so the result does not
/// depend on the thread count), the element-wise passes split the pixels.
/// </summary>
internal sealed class TrainingBatchNormalization : CpuTrainingOp
{
    private readonly BatchNormalizationOp _op;
    private readonly int _pixels, _channels, _gamma, _beta, _movingMean, _movingVariance;
    // Two AVX2 vectors of channels: one thread's channel range starts on a 64-byte line.
    private const int ChannelGroup = 16;
    // Pixels per chunk of an element-wise pass: small layers stay on one thread.
    private const int MinimumPixelsPerChunk = 256;

    private readonly float[] _mean, _variance, _inverseStd, _scale, _shift, _center, _slope;
    private readonly double[] _sumDy, _sumDyXhat;
    private readonly int _channelGroups;
    private readonly RowWork _statistics, _normalize, _gradientSums, _inputGradient;

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
        _center = new float[_channels];
        _slope = new float[_channels];
        _sumDy = new double[_channels];
        _sumDyXhat = new double[_channels];
        _channelGroups = (_channels + ChannelGroup - 1) / ChannelGroup;
        _statistics = new RowWork(groups => BatchNormalizationTrainingKernels.Statistics(
            Input.Span, _mean, _variance, _inverseStd, _pixels, (float)_op.Epsilon, Channels(groups), _sumDy.AsSpan(Channels(groups).Start)));
        _normalize = new RowWork(pixels => BatchNormalizationTrainingKernels.Normalize(Input.Span, Gamma, Beta, _mean, _inverseStd, Output.Span, pixels));
        _gradientSums = new RowWork(groups => BatchNormalizationTrainingKernels.GradientSums(
            Input.Span, OutputGradient.Span, _mean, _inverseStd, _sumDy.AsSpan(Channels(groups).Start), _sumDyXhat.AsSpan(Channels(groups).Start), _pixels, Channels(groups)));
        _inputGradient = new RowWork(pixels => BatchNormalizationTrainingKernels.InputGradient(
            Input.Span, OutputGradient.Span, _mean, _scale, _center, _slope, InputGradient!.Span, 0, pixels, accumulate: true));
    }

    private RowRange Channels(RowRange groups) => new(groups.Start * ChannelGroup, Math.Min(_channels, groups.End * ChannelGroup));

    private ReadOnlySpan<float> Gamma => _gamma < 0 ? default : Weights[_gamma].Span;
    private ReadOnlySpan<float> Beta => _beta < 0 ? default : Weights[_beta].Span;

    public override void Forward(bool training)
    {
        if (training)
        {
            Pool.Run(_statistics, _channelGroups);
            Pool.Run(_normalize, _pixels, MinimumPixelsPerChunk);
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
        Pool.Run(_gradientSums, _channelGroups);
        ReadOnlySpan<float> gamma = Gamma;
        for (int c = 0; c < _channels; c++)
        {
            if (!betaGradient.IsEmpty) betaGradient[c] = (float)(betaGradient[c] + _sumDy[c]);
            if (!gammaGradient.IsEmpty) gammaGradient[c] = (float)(gammaGradient[c] + _sumDyXhat[c]);
            // As BatchNormalizationTrainingKernels.Backward: dx = a·(dy − b − (x − μ)·k).
            double g = gamma.IsEmpty ? 1 : gamma[c];
            _scale[c] = (float)(g * _inverseStd[c]);
            _center[c] = (float)(_sumDy[c] / _pixels);
            _slope[c] = (float)(_inverseStd[c] * _sumDyXhat[c] / _pixels);
        }
        // The input gradient is summed into (a fan-out adds what each reader contributes); none when nothing before is trained.
        if (InputGradient is not null) Pool.Run(_inputGradient, _pixels, MinimumPixelsPerChunk);
    }
}
