namespace NativeCnn.Training;

/// <summary>A fixed learning rate (Keras stores it in the optimizer's <c>learning_rate</c> variable, as float32).</summary>
public sealed class ConstantLearningRate : LearningRateSchedule
{
    /// <summary>Creates the learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative or not finite.</exception>
    public ConstantLearningRate(float value)
    {
        if (!(value >= 0 && float.IsFinite(value)))
            throw new ArgumentOutOfRangeException(nameof(value), $"learning_rate must be a finite, non-negative float, got {value}.");
        Value = value;
    }

    /// <summary>The learning rate.</summary>
    public float Value { get; }

    /// <inheritdoc/>
    public override float Evaluate(long step) => Value;

    /// <inheritdoc/>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
