namespace NativeCnn.Training;

/// <summary>Keras <c>ExponentialDecay</c>: <c>initial · rate^(step / decaySteps)</c>, the exponent floored when <c>staircase</c>.</summary>
/// <param name="initialLearningRate">The rate at step 0.</param>
/// <param name="decaySteps">The steps per factor of <paramref name="decayRate"/>.</param>
/// <param name="decayRate">The factor per <paramref name="decaySteps"/> steps.</param>
/// <param name="staircase">Whether the rate drops in whole steps of <paramref name="decaySteps"/>.</param>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="decaySteps"/> is not positive.</exception>
public sealed class ExponentialDecay(float initialLearningRate, long decaySteps, float decayRate, bool staircase = false)
    : LearningRateSchedule
{
    /// <summary>The rate at step 0.</summary>
    public float InitialLearningRate { get; } = initialLearningRate;
    /// <summary>The steps per factor of <see cref="DecayRate"/>.</summary>
    public long DecaySteps { get; } = decaySteps > 0 ? decaySteps
        : throw new ArgumentOutOfRangeException(nameof(decaySteps), $"ExponentialDecay: decay_steps must be > 0, got {decaySteps}.");
    /// <summary>The factor per <see cref="DecaySteps"/> steps.</summary>
    public float DecayRate { get; } = decayRate;
    /// <summary>Whether the rate drops in whole steps of <see cref="DecaySteps"/>.</summary>
    public bool Staircase { get; } = staircase;

    /// <inheritdoc/>
    public override float Evaluate(long step)
    {
        double p = (double)step / DecaySteps;
        if (Staircase) p = Math.Floor(p);
        return (float)(InitialLearningRate * Math.Pow(DecayRate, p));
    }
}
