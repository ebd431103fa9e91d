namespace NativeCnn.Training;

/// <summary>Keras <c>RMSprop</c>, with optional momentum and centering.</summary>
/// <remarks>
/// As <c>keras/src/optimizers/rmsprop.py</c>: <c>v = ρ v + (1 - ρ) g²</c>; centered: <c>a = ρ a + (1 - ρ) g</c> and
/// <c>d = v - a² + ε</c>, else <c>d = v + ε</c>; <c>inc = lr g / √d</c>; with momentum μ &gt; 0
/// <c>mom = μ mom + inc</c> and <c>w -= mom</c>, else <c>w -= inc</c>. ε is inside the square root (PyTorch adds it
/// outside). Slots: <c>velocity</c>, then <c>momentum</c> (μ &gt; 0), then <c>average_gradient</c> (centered).
/// </remarks>
public sealed class RmsProp : Optimizer
{
    private readonly string[] _slots;

    /// <summary>Creates the optimizer; arguments and defaults as Keras's.</summary>
    /// <param name="learningRate">A float or a schedule; null for Keras's default 0.001.</param>
    /// <param name="rho">ρ, the decay of the squared-gradient average.</param>
    /// <param name="momentum">μ ≥ 0; 0 for none.</param>
    /// <param name="epsilon">ε, added inside the square root.</param>
    /// <param name="centered">Whether to subtract the squared mean gradient.</param>
    /// <exception cref="ArgumentOutOfRangeException">ρ is outside [0, 1], μ is negative or ε is negative.</exception>
    public RmsProp(LearningRateSchedule? learningRate = null, double rho = 0.9, double momentum = 0.0, double epsilon = 1e-7, bool centered = false)
        : base("rmsprop", learningRate ?? 0.001f)
    {
        if (!(rho >= 0 && rho <= 1)) throw new ArgumentOutOfRangeException(nameof(rho), $"rmsprop: rho must be in [0, 1], got {rho}.");
        if (!(momentum >= 0 && double.IsFinite(momentum))) throw new ArgumentOutOfRangeException(nameof(momentum), $"rmsprop: momentum must be >= 0, got {momentum}.");
        if (!(epsilon >= 0 && double.IsFinite(epsilon))) throw new ArgumentOutOfRangeException(nameof(epsilon), $"rmsprop: epsilon must be >= 0, got {epsilon}.");
        Rho = rho;
        Momentum = momentum;
        Epsilon = epsilon;
        Centered = centered;
        var slots = new List<string> { "velocity" };
        if (momentum > 0) slots.Add("momentum");
        if (centered) slots.Add("average_gradient");
        _slots = [.. slots];
    }

    /// <summary>ρ.</summary>
    public double Rho { get; }
    /// <summary>μ.</summary>
    public double Momentum { get; }
    /// <summary>ε.</summary>
    public double Epsilon { get; }
    /// <summary>Whether the update is centered.</summary>
    public bool Centered { get; }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> SlotNames => _slots;

    private protected override void UpdateStep(int index, Span<float> values, ReadOnlySpan<float> gradient, float learningRate)
    {
        int slot = 1;
        var momentum = Momentum > 0 ? Slot(index, slot++) : [];
        var average = Centered ? Slot(index, slot) : [];
        OptimizerKernels.RmsProp(values, gradient, Slot(index, 0), average, momentum,
                                 learningRate, (float)Rho, (float)(1 - Rho), (float)Momentum, (float)Epsilon);
    }
}
