namespace NativeCnn.Training;

/// <summary>Keras <c>AdamW</c>: <see cref="Adam"/> with decoupled weight decay, default 0.004.</summary>
/// <remarks>
/// Keras implements AdamW as Adam with <c>weight_decay</c> set: before the Adam update every variable not excluded
/// (<see cref="Optimizer.ExcludeFromWeightDecay"/>) becomes <c>w - w · weightDecay · lr</c>, with the same learning rate
/// as the update. PyTorch's AdamW does the same (its default decay is 0.01).
/// </remarks>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer; arguments and defaults as Keras's.</summary>
    /// <param name="learningRate">A float or a schedule; null for Keras's default 0.001.</param>
    /// <param name="weightDecay">The decoupled weight decay.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="amsgrad">Whether to use AMSGrad.</param>
    /// <exception cref="ArgumentOutOfRangeException">A β is outside [0, 1), ε is negative or the decay is not finite.</exception>
    public AdamW(LearningRateSchedule? learningRate = null, double weightDecay = 0.004, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, bool amsgrad = false)
        : base("adamw", learningRate, beta1, beta2, epsilon, amsgrad)
    {
        if (!double.IsFinite(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), $"adamw: weight_decay must be a float, got {weightDecay}.");
        WeightDecay = weightDecay;
    }
}
