namespace NativeCnn.Training;

/// <summary>Keras <c>SparseCategoricalAccuracy</c>: whether <c>argmax(prediction)</c> (first maximum on ties) equals the integer label.</summary>
/// <remarks>Targets are one float per sample holding the class index, as for <see cref="SparseCategoricalCrossentropy"/>.</remarks>
public sealed class SparseCategoricalAccuracy : Metric
{
    /// <summary>Creates the metric.</summary>
    public SparseCategoricalAccuracy(string name = "sparse_categorical_accuracy") : base(name) { }

    /// <summary>One label per sample.</summary>
    public override int TargetsPerSample(int outputsPerSample) => 1;

    private protected override double SampleValue(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets) =>
        ArgMax(predictions) == targets[0] ? 1 : 0;
}
