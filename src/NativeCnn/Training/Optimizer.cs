namespace NativeCnn.Training;

/// <summary>
/// A Keras 3 optimizer over a fixed list of <see cref="TrainableVariable"/>s: <see cref="Build"/> once, then
/// <see cref="Apply"/> after each backward pass.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Apply"/> follows <c>keras/src/optimizers/base_optimizer.py</c> step for step: the learning rate is
/// evaluated at <see cref="Iterations"/> (before the increment, so the first step uses 0); gradients are clipped
/// (<see cref="ClipNorm"/> per variable, else <see cref="GlobalClipNorm"/>, else <see cref="ClipValue"/>), in place in
/// the gradient buffers; then decoupled weight decay <c>w -= w · weightDecay · lr</c> is applied to every variable not
/// excluded; then each variable gets the optimizer's update; then <see cref="Iterations"/> is incremented.
/// </para>
/// <para>
/// The arithmetic is float32 with the operations in Keras's order and Keras's hyperparameter roundings
/// (hyperparameters are float64 as Python floats are, cast to float32 where Keras casts them, and <c>1 - beta</c> is
/// computed in float64 first as Python computes it). Norms are accumulated in float64. The loops use
/// <see cref="System.Numerics.Vector{T}"/> without fused multiply-add, so results do not depend on the vector width.
/// </para>
/// <para>
/// State is allocated once in <see cref="Build"/>; <see cref="Apply"/> allocates nothing. State is exposed for
/// checkpoints through <see cref="Variables"/> in Keras's order (per trainable variable, each slot in turn) after
/// Keras's <c>iteration</c> (<see cref="Iterations"/>) and, for a constant rate, <c>learning_rate</c>.
/// </para>
/// </remarks>
public abstract class Optimizer
{
    private readonly List<string> _excludedFromWeightDecay = [];
    private TrainableVariable[] _trainable = [];
    private OptimizerVariable[] _variables = [];
    private bool[] _decays = [];
    private int _slotsPerVariable;

    /// <summary>Sets the name and learning rate.</summary>
    private protected Optimizer(string name, LearningRateSchedule learningRate)
    {
        Name = name;
        LearningRate = learningRate ?? throw new ArgumentNullException(nameof(learningRate));
    }

    /// <summary>The Keras name, e.g. <c>adam</c>.</summary>
    public string Name { get; }

    /// <summary>The learning rate or schedule; may be replaced between steps, as Keras allows.</summary>
    public LearningRateSchedule LearningRate { get; set; }

    /// <summary>Decoupled weight decay (Keras <c>weight_decay</c>); null for none.</summary>
    public double? WeightDecay { get; init; }

    /// <summary>Clip each variable's gradient to this L2 norm (Keras <c>clipnorm</c>); null for none.</summary>
    public double? ClipNorm { get; init; }

    /// <summary>Clip the gradients of all variables together to this L2 norm (Keras <c>global_clipnorm</c>); null for none.</summary>
    public double? GlobalClipNorm { get; init; }

    /// <summary>Clip every gradient value to [-v, v] (Keras <c>clipvalue</c>); null for none.</summary>
    public double? ClipValue { get; init; }

    /// <summary>Completed steps (Keras <c>iterations</c>); settable to restore a checkpoint.</summary>
    public long Iterations { get; set; }

    /// <summary>The learning rate the next <see cref="Apply"/> uses: the schedule at <see cref="Iterations"/>.</summary>
    public float CurrentLearningRate => LearningRate.Evaluate(Iterations);

    /// <summary>Whether <see cref="Build"/> has run.</summary>
    public bool IsBuilt { get; private set; }

    /// <summary>The variables given to <see cref="Build"/>.</summary>
    public IReadOnlyList<TrainableVariable> TrainableVariables => _trainable;

    /// <summary>The optimizer state, in Keras's order: for each trainable variable, each slot in turn.</summary>
    public IReadOnlyList<OptimizerVariable> Variables => _variables;

    /// <summary>The slot names per variable, in Keras's order (e.g. momentum, velocity); known after construction.</summary>
    protected abstract IReadOnlyList<string> SlotNames { get; }

    /// <summary>
    /// Excludes from weight decay every variable whose name contains one of <paramref name="nameFragments"/> (as Keras's
    /// <c>exclude_from_weight_decay(var_names=…)</c>, which searches the names; plain substrings here, not regexes).
    /// </summary>
    /// <exception cref="InvalidOperationException">The optimizer is already built.</exception>
    public void ExcludeFromWeightDecay(params string[] nameFragments)
    {
        ArgumentNullException.ThrowIfNull(nameFragments);
        if (IsBuilt) throw new InvalidOperationException($"{Name}: exclude_from_weight_decay can only be configured before the optimizer is built.");
        _excludedFromWeightDecay.AddRange(nameFragments);
    }

    /// <summary>Whether weight decay applies to <paramref name="variable"/> (it is set and the variable is not excluded).</summary>
    public bool UsesWeightDecay(TrainableVariable variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        return WeightDecay is not null && !_excludedFromWeightDecay.Any(f => variable.Name.Contains(f, StringComparison.Ordinal));
    }

    /// <summary>Allocates the state (zero-filled) for <paramref name="variables"/>; call once before the first step.</summary>
    /// <exception cref="InvalidOperationException">The optimizer is already built, or more than one clipping option is set.</exception>
    /// <exception cref="ArgumentException">Two variables have the same name.</exception>
    public void Build(IReadOnlyList<TrainableVariable> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        if (IsBuilt) throw new InvalidOperationException($"{Name}: the optimizer is already built on {_trainable.Length} variables.");
        CheckOptions();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in variables)
        {
            ArgumentNullException.ThrowIfNull(v, nameof(variables));
            if (!names.Add(v.Name)) throw new ArgumentException($"{Name}: two trainable variables are named '{v.Name}'.", nameof(variables));
        }
        _trainable = [.. variables];
        var slots = SlotNames;
        _slotsPerVariable = slots.Count;
        _variables = new OptimizerVariable[_trainable.Length * slots.Count];
        _decays = new bool[_trainable.Length];
        for (int i = 0; i < _trainable.Length; i++)
        {
            _decays[i] = UsesWeightDecay(_trainable[i]);
            string prefix = _trainable[i].Name.Replace('/', '_');
            for (int s = 0; s < slots.Count; s++)
                _variables[i * slots.Count + s] = new OptimizerVariable($"{prefix}_{slots[s]}", slots[s], _trainable[i]);
        }
        IsBuilt = true;
    }

    /// <summary>The state slot named <paramref name="name"/> (e.g. <c>dense_kernel_momentum</c>).</summary>
    /// <exception cref="KeyNotFoundException">No slot has that name; the message lists a few that exist.</exception>
    public OptimizerVariable GetVariable(string name)
    {
        foreach (var v in _variables)
        {
            if (v.Name == name) return v;
        }
        throw new KeyNotFoundException($"{Name}: no optimizer variable '{name}'; it has {_variables.Length}, e.g. {string.Join(", ", _variables.Take(4).Select(v => v.Name))}.");
    }

    /// <summary>
    /// One optimizer step: clip the gradients, decay the weights, update every variable from its gradient, increment
    /// <see cref="Iterations"/> (see the class remarks). Allocates nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">The optimizer is not built.</exception>
    public void Apply()
    {
        if (!IsBuilt) throw new InvalidOperationException($"{Name}: call Build with the trainable variables before the first step.");
        float learningRate = LearningRate.Evaluate(Iterations);
        ClipGradients();
        if (WeightDecay is double weightDecay)
        {
            float wd = (float)weightDecay;
            for (int i = 0; i < _trainable.Length; i++)
            {
                if (_decays[i]) OptimizerKernels.DecayWeights(_trainable[i].Values.Span, wd, learningRate);
            }
        }
        BeginStep(learningRate);
        for (int i = 0; i < _trainable.Length; i++) UpdateStep(i, _trainable[i].Values.Span, _trainable[i].Gradient.Span, learningRate);
        Iterations++;
    }

    /// <summary>Computes per-step scalars (e.g. Adam's bias corrections) before the variables are updated.</summary>
    private protected virtual void BeginStep(float learningRate) { }

    /// <summary>Updates one variable (Keras <c>update_step</c>).</summary>
    private protected abstract void UpdateStep(int index, Span<float> values, ReadOnlySpan<float> gradient, float learningRate);

    /// <summary>The state of slot <paramref name="slot"/> (in <see cref="SlotNames"/>) of trainable variable <paramref name="index"/>.</summary>
    private protected Span<float> Slot(int index, int slot) => _variables[index * _slotsPerVariable + slot].Values;

    private void CheckOptions()
    {
        int clips = (ClipNorm is null ? 0 : 1) + (GlobalClipNorm is null ? 0 : 1) + (ClipValue is null ? 0 : 1);
        if (clips > 1)
            throw new InvalidOperationException($"{Name}: only one of clipnorm, clipvalue and global_clipnorm can be set; got clipnorm={ClipNorm}, clipvalue={ClipValue}, global_clipnorm={GlobalClipNorm}.");
        if (WeightDecay is double wd && !double.IsFinite(wd))
            throw new InvalidOperationException($"{Name}: weight_decay must be finite, got {wd}.");
    }

    // base_optimizer.py _clip_gradients: "if self.clipnorm and self.clipnorm > 0", so 0 or a negative value disables it.
    private void ClipGradients()
    {
        if (ClipNorm is double clipNorm && clipNorm > 0)
        {
            float c = (float)clipNorm;
            foreach (var v in _trainable) OptimizerKernels.ClipByNorm(v.Gradient.Span, c);
        }
        else if (GlobalClipNorm is double globalClipNorm && globalClipNorm > 0)
        {
            double squares = 0;
            foreach (var v in _trainable) squares += OptimizerKernels.SumOfSquares(v.Gradient.Span);
            float norm = (float)Math.Sqrt(squares), c = (float)globalClipNorm;
            // clip_by_global_norm: clip_norm · min(1 / norm, 1 / clip_norm), plus (norm - norm) to turn inf/NaN into NaN.
            float scale = c * Math.Min(1f / norm, 1f / c) + (norm - norm);
            foreach (var v in _trainable) OptimizerKernels.Scale(v.Gradient.Span, scale);
        }
        else if (ClipValue is double clipValue && clipValue > 0)
        {
            float c = (float)clipValue;
            foreach (var v in _trainable) OptimizerKernels.Clip(v.Gradient.Span, -c, c);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} (learning_rate={LearningRate}, iterations={Iterations})";
}
