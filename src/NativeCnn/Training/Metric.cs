namespace NativeCnn.Training;

/// <summary>
/// A Keras metric accumulated over an epoch: <see cref="Update"/> per batch, <see cref="Result"/> at any point,
/// <see cref="Reset"/> at the start of an epoch (as <c>fit</c> resets its metrics).
/// </summary>
/// <remarks>
/// The accuracy metrics are Keras's <c>MeanMetricWrapper</c>s: each sample contributes its value (0 or 1; for
/// binary accuracy the mean over its outputs) with weight 1, and the result is the total over the count. Totals are
/// kept in float64 (Keras keeps float32 variables), so long epochs do not lose counts.
/// </remarks>
public abstract class Metric
{
    private double _total, _count;

    /// <summary>Sets the name Keras reports (the string given to <c>compile</c>, e.g. <c>accuracy</c>).</summary>
    private protected Metric(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    /// <summary>The name in the training log, e.g. <c>accuracy</c> or <c>val_accuracy</c> without the prefix.</summary>
    public string Name { get; }

    /// <summary>The mean so far (Keras's <c>result()</c>); 0 before any update, as Keras's <c>divide_no_nan</c>.</summary>
    public float Result => _count == 0 ? 0f : (float)(_total / _count);

    /// <summary>The accumulated weight (the number of samples for the accuracies).</summary>
    public double Count => _count;

    /// <summary>Forgets every update.</summary>
    public void Reset() => (_total, _count) = (0, 0);

    /// <summary>How many target values each sample has when the model has <paramref name="outputsPerSample"/> outputs.</summary>
    public virtual int TargetsPerSample(int outputsPerSample) => outputsPerSample;

    /// <summary>Adds one batch of <c>(batch, outputs)</c> predictions and their targets.</summary>
    /// <exception cref="ArgumentException">The lengths do not match the batch.</exception>
    public void Update(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int batch)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), $"{Name}: batch must be at least 1, got {batch}.");
        if (predictions.Length == 0 || predictions.Length % batch != 0)
            throw new ArgumentException($"{Name}: {predictions.Length} predictions are not {batch} samples of one or more outputs.", nameof(predictions));
        int outputs = predictions.Length / batch;
        long expectedTargets = (long)batch * TargetsPerSample(outputs);
        if (targets.Length != expectedTargets)
            throw new ArgumentException($"{Name}: expected {expectedTargets} targets for predictions ({batch}, {outputs}), got {targets.Length}.", nameof(targets));
        int targetWidth = TargetsPerSample(outputs);
        double total = 0;
        for (int n = 0; n < batch; n++)
            total += SampleValue(predictions.Slice(n * outputs, outputs), targets.Slice(n * targetWidth, targetWidth));
        _total += total;
        _count += batch;
    }

    /// <summary>Adds <paramref name="value"/> with <paramref name="weight"/> (Keras <c>Mean.update_state(value, sample_weight)</c>).</summary>
    private protected void Accumulate(double value, double weight)
    {
        _total += value * weight;
        _count += weight;
    }

    /// <summary>The metric's value for one sample.</summary>
    private protected abstract double SampleValue(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets);

    /// <summary>The index of the largest value, the first one on ties (NumPy's and TensorFlow's <c>argmax</c>).</summary>
    internal static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best]) best = i;
        }
        return best;
    }

    /// <summary>
    /// The metric Keras's <c>compile(metrics=[name])</c> builds for a model with <paramref name="outputsPerSample"/> outputs
    /// and <paramref name="targetsPerSample"/> target values per sample. <c>accuracy</c>/<c>acc</c> resolve as Keras's
    /// <c>get_metric</c> resolves them: binary accuracy for one output, sparse categorical accuracy for one target value
    /// and several outputs, categorical accuracy otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a supported metric; the message lists them.</exception>
    public static Metric FromName(string name, int targetsPerSample, int outputsPerSample)
    {
        ArgumentNullException.ThrowIfNull(name);
        switch (name)
        {
            case "accuracy" or "acc":
                if (outputsPerSample == 1) return new BinaryAccuracy(name);
                return targetsPerSample == 1 ? new SparseCategoricalAccuracy(name) : new CategoricalAccuracy(name);
            case "sparse_categorical_accuracy": return new SparseCategoricalAccuracy();
            case "categorical_accuracy": return new CategoricalAccuracy();
            case "binary_accuracy": return new BinaryAccuracy();
            default:
                throw new ArgumentException($"Unknown metric '{name}'; expected one of accuracy, acc, sparse_categorical_accuracy, categorical_accuracy, binary_accuracy.", nameof(name));
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Result}";
}
