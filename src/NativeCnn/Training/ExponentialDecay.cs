namespace NativeCnn.Training;

/// <summary>Keras <c>ExponentialDecay</c>: <c>initial · rate^(step / decaySteps)</c>, the exponent floored when <c>staircase</c>.</summary>
public sealed class ExponentialDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule; arguments as Keras's.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decaySteps"/> is not positive.</exception>
    public ExponentialDecay(float initialLearningRate, long decaySteps, float decayRate, bool staircase = false)
    {
        if (decaySteps <= 0) throw new ArgumentOutOfRangeException(nameof(decaySteps), $"ExponentialDecay: decay_steps must be > 0, got {decaySteps}.");
        InitialLearningRate = initialLearningRate;
        DecaySteps = decaySteps;
        DecayRate = decayRate;
        Staircase = staircase;
    }

    /// <summary>The rate at step 0.</summary>
    public float InitialLearningRate { get; }
    /// <summary>The steps per factor of <see cref="DecayRate"/>.</summary>
    public long DecaySteps { get; }
    /// <summary>The factor per <see cref="DecaySteps"/> steps.</summary>
    public float DecayRate { get; }
    /// <summary>Whether the rate drops in whole steps of <see cref="DecaySteps"/>.</summary>
    public bool Staircase { get; }

    /// <inheritdoc/>
    public override float Evaluate(long step)
    {
        double p = (double)step / DecaySteps;
        if (Staircase) p = Math.Floor(p);
        return (float)(InitialLearningRate * Math.Pow(DecayRate, p));
    }
}
