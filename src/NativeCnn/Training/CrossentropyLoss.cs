namespace NativeCnn.Training;

/// <summary>
/// A cross-entropy over a distribution of targets (<see cref="BinaryCrossentropy"/>, <see cref="CategoricalCrossentropy"/>):
/// its predictions are probabilities or logits, and its targets may be smoothed toward the uniform distribution.
/// </summary>
public abstract class CrossentropyLoss : Loss
{
    private protected CrossentropyLoss(string name, bool fromLogits, float labelSmoothing)
    {
        Name = name;
        FromLogits = fromLogits;
        LabelSmoothing = CheckLabelSmoothing(name, labelSmoothing);
    }

    /// <summary>Whether the predictions are logits.</summary>
    public bool FromLogits { get; }

    /// <summary>The label smoothing factor, in [0, 1].</summary>
    public float LabelSmoothing { get; }

    /// <inheritdoc/>
    public override string Name { get; }
}
