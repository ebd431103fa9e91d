namespace NativeCnn.Training;

/// <summary>
/// A learning rate as a function of the optimizer's step (Keras <c>LearningRateSchedule</c>); a plain float converts
/// implicitly to a <see cref="ConstantLearningRate"/>, so <c>new Adam(learningRate: 1e-3f)</c> and
/// <c>new Adam(learningRate: new CosineDecay(1e-3f, 1000))</c> both work.
/// </summary>
/// <remarks>
/// The optimizer evaluates the schedule at its <see cref="Optimizer.Iterations"/> before incrementing it, as Keras's
/// <c>_get_current_learning_rate</c> does, so the first update uses step 0. Schedules compute in float64 and round the
/// result to float32 once (Keras computes in float32), so values agree with Keras to float32 rounding.
/// </remarks>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate at optimizer step <paramref name="step"/> (0 for the first update).</summary>
    public abstract float Evaluate(long step);

    /// <summary>A constant learning rate.</summary>
    public static implicit operator LearningRateSchedule(float learningRate) => new ConstantLearningRate(learningRate);
}
