namespace NativeCnn.Training;

/// <summary>Keras <c>SGD</c>, with optional momentum and Nesterov momentum.</summary>
/// <remarks>
/// Without momentum: <c>w -= lr · g</c>. With momentum μ (slot <c>momentum</c>): <c>m = μ m - lr g</c>, then
/// <c>w += m</c>, or <c>w += μ m - lr g</c> with Nesterov. This equals PyTorch's <c>SGD(momentum=μ, dampening=0)</c>
/// while the learning rate is constant (Keras's m is PyTorch's buffer times -lr).
/// </remarks>
public sealed class Sgd : Optimizer
{
    private readonly string[] _slots;
    private float _momentum;

    /// <summary>Creates the optimizer; arguments and defaults as Keras's (learning rate 0.01).</summary>
    /// <param name="learningRate">A float or a schedule; null for Keras's default 0.01.</param>
    /// <param name="momentum">μ ≥ 0; 0 for plain SGD.</param>
    /// <param name="nesterov">Whether to use Nesterov momentum.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="momentum"/> is negative or not finite.</exception>
    public Sgd(LearningRateSchedule? learningRate = null, double momentum = 0.0, bool nesterov = false)
        : base("SGD", learningRate ?? 0.01f)
    {
        // keras/src/optimizers/sgd.py: "`momentum` must be a float between [0, 1]".
        if (!(momentum >= 0 && momentum <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), $"SGD: momentum must be a float between [0, 1], got {momentum}.");
        Momentum = momentum;
        Nesterov = nesterov;
        _slots = momentum != 0 ? ["momentum"] : [];
    }

    /// <summary>The momentum μ.</summary>
    public double Momentum { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> SlotNames => _slots;

    private protected override void BeginStep(float learningRate) => _momentum = (float)Momentum;

    private protected override void UpdateStep(int index, Span<float> values, ReadOnlySpan<float> gradient, float learningRate)
    {
        if (Momentum != 0) OptimizerKernels.SgdMomentum(values, gradient, Slot(index, 0), learningRate, _momentum, Nesterov);
        else OptimizerKernels.Sgd(values, gradient, learningRate);
    }
}
