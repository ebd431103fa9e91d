namespace NativeCnn.Training;

/// <summary>Keras <c>CategoricalAccuracy</c>: whether <c>argmax(prediction) == argmax(target)</c> (first maximum on ties).</summary>
public sealed class CategoricalAccuracy : Metric
{
    /// <summary>Creates the metric.</summary>
    public CategoricalAccuracy(string name = "categorical_accuracy") : base(name) { }

    private protected override double SampleValue(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets) =>
        ArgMax(predictions) == ArgMax(targets) ? 1 : 0;
}
