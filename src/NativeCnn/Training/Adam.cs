namespace NativeCnn.Training;

/// <summary>Keras <c>Adam</c> (and, through <see cref="AdamW"/>, <c>AdamW</c>), with optional AMSGrad.</summary>
/// <remarks>
/// <para>
/// At step t = <see cref="Optimizer.Iterations"/> + 1, in float32 as <c>keras/src/optimizers/adam.py</c>:
/// <c>α = lr · √(1 - β₂ᵗ) / (1 - β₁ᵗ)</c>, <c>m += (g - m)(1 - β₁)</c>, <c>v += (g² - v)(1 - β₂)</c>, for AMSGrad
/// <c>v̂ = max(v̂, v)</c> used in place of v, and <c>w -= α m / (√v + ε)</c>. Slots: <c>momentum</c>,
/// <c>velocity</c> and (AMSGrad) <c>velocity_hat</c>.
/// </para>
/// <para>
/// ε is added to √v before the bias correction of v, so Keras's ε = 1e-7 corresponds to PyTorch's
/// <c>ε√(1 - β₂ᵗ)</c>; the two agree exactly only for ε = 0.
/// </para>
/// </remarks>
public class Adam : Optimizer
{
    private readonly string[] _slots;
    private float _alpha;

    /// <summary>Creates the optimizer; arguments and defaults as Keras's.</summary>
    /// <param name="learningRate">A float or a schedule; null for Keras's default 0.001.</param>
    /// <param name="beta1">β₁, the decay of the first moment.</param>
    /// <param name="beta2">β₂, the decay of the second moment.</param>
    /// <param name="epsilon">ε, added to √v.</param>
    /// <param name="amsgrad">Whether to use AMSGrad.</param>
    /// <exception cref="ArgumentOutOfRangeException">A β is outside [0, 1) or ε is negative.</exception>
    public Adam(LearningRateSchedule? learningRate = null, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, bool amsgrad = false)
        : this("adam", learningRate, beta1, beta2, epsilon, amsgrad) { }

    private protected Adam(string name, LearningRateSchedule? learningRate, double beta1, double beta2, double epsilon, bool amsgrad)
        : base(name, learningRate ?? 0.001f)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), $"{name}: beta_1 must be in [0, 1), got {beta1}.");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), $"{name}: beta_2 must be in [0, 1), got {beta2}.");
        if (!(epsilon >= 0 && double.IsFinite(epsilon))) throw new ArgumentOutOfRangeException(nameof(epsilon), $"{name}: epsilon must be >= 0, got {epsilon}.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        Amsgrad = amsgrad;
        _slots = amsgrad ? ["momentum", "velocity", "velocity_hat"] : ["momentum", "velocity"];
    }

    /// <summary>β₁.</summary>
    public double Beta1 { get; }
    /// <summary>β₂.</summary>
    public double Beta2 { get; }
    /// <summary>ε.</summary>
    public double Epsilon { get; }
    /// <summary>Whether AMSGrad is used.</summary>
    public bool Amsgrad { get; }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> SlotNames => _slots;

    private protected override void BeginStep(float learningRate)
    {
        // adam.py: local_step = cast(iterations + 1); beta_power = power(cast(beta), local_step); all float32.
        float step = Iterations + 1;
        float beta1Power = MathF.Pow((float)Beta1, step), beta2Power = MathF.Pow((float)Beta2, step);
        _alpha = learningRate * MathF.Sqrt(1f - beta2Power) / (1f - beta1Power);
    }

    private protected override void UpdateStep(int index, Span<float> values, ReadOnlySpan<float> gradient, float learningRate) =>
        OptimizerKernels.Adam(values, gradient, Slot(index, 0), Slot(index, 1), Amsgrad ? Slot(index, 2) : [],
                              _alpha, (float)(1 - Beta1), (float)(1 - Beta2), (float)Epsilon);
}
