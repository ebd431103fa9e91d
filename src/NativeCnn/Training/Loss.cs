namespace NativeCnn.Training;

/// <summary>
/// A Keras loss with <c>reduction="sum_over_batch_size"</c>: the mean over the batch of a per-sample loss, plus its
/// gradient with respect to the loss's input (the model's predictions, or its logits for a <c>fromLogits</c> loss).
/// </summary>
/// <remarks>
/// <para>
/// Predictions are <c>(batch, outputs)</c> row-major. Targets are <c>(batch, <see cref="TargetsPerSample"/>)</c>:
/// the same shape as the predictions, except for <see cref="SparseCategoricalCrossentropy"/>, which takes one class
/// index per sample (stored as a float holding an integer, as Keras casts integer labels).
/// </para>
/// <para>
/// Per-sample terms are accumulated in float64 and the mean is rounded to float32 once; Keras accumulates in float32,
/// so loss values agree with Keras to float32 rounding, not bit for bit. Gradients are float32.
/// </para>
/// <para>Nothing is allocated: the gradient goes into the caller's span.</para>
/// </remarks>
public abstract class Loss
{
    /// <summary>The smallest probability the cross-entropies use: Keras's <c>backend.epsilon()</c>, 1e-7.</summary>
    public const float Epsilon = 1e-7f;

    /// <summary>
    /// The largest probability the cross-entropies use: <c>1 - epsilon</c> computed in float64 (as Python does) and rounded
    /// to float32 when Keras clips a float32 tensor: 0.99999988.
    /// </summary>
    public const float OneMinusEpsilon = (float)(1.0 - 1e-7);

    private static readonly string[] s_names =
    [
        "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mse",
    ];

    /// <summary>The Keras name of the loss, e.g. <c>sparse_categorical_crossentropy</c>.</summary>
    public abstract string Name { get; }

    /// <summary>How many target values each sample has when the model has <paramref name="outputsPerSample"/> outputs.</summary>
    public virtual int TargetsPerSample(int outputsPerSample) => outputsPerSample;

    /// <summary>
    /// Computes the mean loss over <paramref name="batch"/> samples and, unless <paramref name="gradient"/> is empty, writes
    /// d(mean loss)/d(prediction) into it (same layout as <paramref name="predictions"/>).
    /// </summary>
    /// <param name="predictions">The loss's input, <c>(batch, outputs)</c>: probabilities, or logits for a <c>fromLogits</c> loss.</param>
    /// <param name="targets">The targets, <c>(batch, TargetsPerSample(outputs))</c>.</param>
    /// <param name="batch">The number of samples (at least 1); <c>outputs = predictions.Length / batch</c>.</param>
    /// <param name="gradient">Receives the gradient; empty to compute the loss only (validation).</param>
    /// <returns>The mean loss, as Keras's <c>sum_over_batch_size</c> reduction reports it.</returns>
    /// <exception cref="ArgumentException">The lengths do not match the batch, or a sparse label is not a class index.</exception>
    public float Compute(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int batch, Span<float> gradient)
    {
        int outputs = CheckShapes(predictions, targets.Length, batch, gradient);
        return ComputeCore(predictions, targets, batch, outputs, gradient);
    }

    /// <summary>Computes the loss for already checked shapes (see <see cref="Compute"/>).</summary>
    protected abstract float ComputeCore(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int batch, int outputs, Span<float> gradient);

    /// <summary>
    /// Checks that <paramref name="predictions"/> hold <paramref name="batch"/> whole samples, that
    /// <paramref name="targetLength"/> fits them and that <paramref name="gradient"/> is empty or as long as the predictions.
    /// </summary>
    /// <returns>The outputs per sample.</returns>
    private protected int CheckShapes(ReadOnlySpan<float> predictions, int targetLength, int batch, ReadOnlySpan<float> gradient)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), $"{Name}: batch must be at least 1, got {batch}.");
        if (predictions.Length == 0 || predictions.Length % batch != 0)
            throw new ArgumentException($"{Name}: {predictions.Length} predictions are not {batch} samples of one or more outputs.", nameof(predictions));
        int outputs = predictions.Length / batch;
        long expectedTargets = (long)batch * TargetsPerSample(outputs);
        if (targetLength != expectedTargets)
            throw new ArgumentException($"{Name}: expected {expectedTargets} targets for predictions ({batch}, {outputs}), got {targetLength}.", "targets");
        if (!gradient.IsEmpty && gradient.Length != predictions.Length)
            throw new ArgumentException($"{Name}: expected a gradient of {predictions.Length} values (or none), got {gradient.Length}.", nameof(gradient));
        return outputs;
    }

    /// <summary>Keras's <c>label_smoothing</c> argument, checked to lie in [0, 1].</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is outside [0, 1] or NaN.</exception>
    private protected static float CheckLabelSmoothing(string lossName, float labelSmoothing) =>
        labelSmoothing is >= 0 and <= 1 ? labelSmoothing
            : throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"{lossName}: label_smoothing must be in [0, 1], got {labelSmoothing}.");

    /// <summary>
    /// The checks of a fused softmax + cross-entropy step: the loss takes probabilities, the shapes fit (see
    /// <see cref="CheckShapes"/>) and there is a gradient to write.
    /// </summary>
    /// <returns>The outputs per sample.</returns>
    private protected int CheckFusedSoftmax(bool fromLogits, ReadOnlySpan<float> probabilities, int targetLength, int batch, ReadOnlySpan<float> logitsGradient)
    {
        if (fromLogits) throw new InvalidOperationException($"{Name}: the fused softmax path takes probabilities; this loss was created with from_logits=True.");
        int outputs = CheckShapes(probabilities, targetLength, batch, logitsGradient);
        if (logitsGradient.IsEmpty) throw new ArgumentException($"{Name}: expected a gradient of {probabilities.Length} values, got none.", nameof(logitsGradient));
        return outputs;
    }

    /// <summary>
    /// The loss Keras's <c>keras.losses.get</c> returns for <paramref name="name"/> (with its defaults: from
    /// probabilities, no label smoothing). Snake-case names, class names and <c>mse</c> are accepted.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not one of the supported losses; the message lists them.</exception>
    public static Loss FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name switch
        {
            "sparse_categorical_crossentropy" or "SparseCategoricalCrossentropy" => new SparseCategoricalCrossentropy(),
            "categorical_crossentropy" or "CategoricalCrossentropy" => new CategoricalCrossentropy(),
            "binary_crossentropy" or "BinaryCrossentropy" => new BinaryCrossentropy(),
            "mean_squared_error" or "MeanSquaredError" or "mse" or "MSE" => new MeanSquaredError(),
            _ => throw new ArgumentException($"Unknown loss '{name}'; expected one of {string.Join(", ", s_names)} (or the class names).", nameof(name)),
        };
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
