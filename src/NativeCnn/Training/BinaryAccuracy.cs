namespace NativeCnn.Training;

/// <summary>
/// Keras <c>BinaryAccuracy</c>: per sample, the fraction of outputs where <c>(prediction &gt; threshold ? 1 : 0)</c>
/// equals the target (so only targets exactly 0 or 1 can match).
/// </summary>
public sealed class BinaryAccuracy : Metric
{
    /// <summary>Creates the metric; the threshold is Keras's default 0.5.</summary>
    public BinaryAccuracy(string name = "binary_accuracy", float threshold = 0.5f) : base(name) => Threshold = threshold;

    /// <summary>A prediction strictly above it counts as 1.</summary>
    public float Threshold { get; }

    private protected override double SampleValue(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets)
    {
        int matches = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            if ((predictions[i] > Threshold ? 1f : 0f) == targets[i]) matches++;
        }
        return (double)matches / predictions.Length;
    }
}
