namespace NativeCnn.Training;

/// <summary>Keras 3 <c>CosineDecay</c>: optional linear warmup, then cosine decay to <c>alpha</c> times the peak.</summary>
/// <remarks>
/// Computes, as <c>keras/src/optimizers/schedules/learning_rate_schedule.py</c> does, with <c>s = step</c>:
/// <list type="bullet">
/// <item>without a warmup target: <c>s = min(s, decaySteps)</c>, and
/// <c>initial · ((1 - alpha) · 0.5 (1 + cos(π s / decaySteps)) + alpha)</c>;</item>
/// <item>with one: <c>s = min(s, decaySteps + warmupSteps)</c>; while <c>s &lt; warmupSteps</c> the rate is
/// <c>(warmupTarget - initial) · s / warmupSteps + initial</c>, and from <c>warmupSteps</c> on it is the cosine decay
/// of <c>s - warmupSteps</c> starting from <c>warmupTarget</c>.</item>
/// </list>
/// </remarks>
/// <param name="initialLearningRate">The rate at step 0.</param>
/// <param name="decaySteps">The number of steps the cosine takes to reach its minimum.</param>
/// <param name="alpha">The minimum as a fraction of the peak.</param>
/// <param name="warmupTarget">The rate the warmup reaches; null for no warmup.</param>
/// <param name="warmupSteps">The length of the warmup.</param>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="decaySteps"/> is not positive or <paramref name="warmupSteps"/> is negative.</exception>
public sealed class CosineDecay(float initialLearningRate, long decaySteps, float alpha = 0f, float? warmupTarget = null, long warmupSteps = 0)
    : LearningRateSchedule
{
    /// <summary>The rate at step 0.</summary>
    public float InitialLearningRate { get; } = initialLearningRate;
    /// <summary>The number of steps the cosine takes to reach its minimum.</summary>
    public long DecaySteps { get; } = decaySteps > 0 ? decaySteps
        : throw new ArgumentOutOfRangeException(nameof(decaySteps), $"CosineDecay: decay_steps must be > 0, got {decaySteps}.");
    /// <summary>The minimum as a fraction of the peak.</summary>
    public float Alpha { get; } = alpha;
    /// <summary>The rate the warmup reaches; null for no warmup.</summary>
    public float? WarmupTarget { get; } = warmupTarget;
    /// <summary>The length of the warmup.</summary>
    public long WarmupSteps { get; } = warmupSteps >= 0 ? warmupSteps
        : throw new ArgumentOutOfRangeException(nameof(warmupSteps), $"CosineDecay: warmup_steps must be >= 0, got {warmupSteps}.");

    /// <inheritdoc/>
    public override float Evaluate(long step)
    {
        if (WarmupTarget is not float target) return Decay(Math.Min(step, DecaySteps), InitialLearningRate);
        double s = Math.Min(step, DecaySteps + WarmupSteps);
        if (s < WarmupSteps) return (float)(((double)target - InitialLearningRate) * (s / WarmupSteps) + InitialLearningRate);
        return Decay(s - WarmupSteps, target);
    }

    private float Decay(double step, double from)
    {
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * (step / DecaySteps)));
        return (float)(from * ((1 - (double)Alpha) * cosine + Alpha));
    }
}
