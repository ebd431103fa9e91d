namespace NativeCnn.Training;

/// <summary>
/// Keras <c>metrics.Mean</c>: a weighted mean of scalars. <c>fit</c> tracks its loss with one, adding each batch's mean
/// loss with the batch size as weight, so the epoch's loss is the mean over samples even with a short last batch.
/// </summary>
public sealed class MeanMetric : Metric
{
    /// <summary>Creates the tracker (Keras names the loss tracker <c>loss</c>).</summary>
    public MeanMetric(string name = "loss") : base(name) { }

    /// <summary>Adds <paramref name="value"/> with <paramref name="weight"/> (the batch size for a batch's mean loss).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weight"/> is negative or not finite.</exception>
    public void Update(double value, double weight = 1)
    {
        if (!(weight >= 0 && double.IsFinite(weight))) throw new ArgumentOutOfRangeException(nameof(weight), $"{Name}: the weight must be finite and >= 0, got {weight}.");
        Accumulate(value, weight);
    }

    private protected override double SampleValue(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets) =>
        throw new InvalidOperationException($"{Name}: a mean tracker takes scalars; call Update(value, weight).");
}
