namespace NativeCnn.Training;

/// <summary>Keras <c>CategoricalCrossentropy</c>: one-hot (or any distribution of) targets of shape <c>(batch, classes)</c>.</summary>
/// <remarks>
/// <para>
/// From probabilities (the default) it does what every Keras backend does: <c>y = p / sum(p)</c>, then
/// <c>q = clip(y, 1e-7, 1 - 1e-7)</c>, and loss <c>-Σ t log q</c>; the gradient differentiates that expression (the
/// clip passes gradient only inside the closed range). From logits it uses a numerically stable log-softmax.
/// </para>
/// <para>
/// With <c>labelSmoothing</c> ls the targets become <c>t (1 - ls) + ls / classes</c>, as in Keras.
/// </para>
/// <para>
/// When the model ends in softmax, <see cref="ComputeFromSoftmax"/> gives the gradient with respect to the softmax's
/// input in one step. TensorFlow's Keras backend does the same (it recovers the logits behind a Softmax op, so its
/// loss and gradient are unclipped there); the clipped gradient of <see cref="Loss.Compute"/> differs from the fused one
/// only in samples where a probability is below 1e-7 or above 1 - 1e-7.
/// </para>
/// </remarks>
public sealed class CategoricalCrossentropy : Loss
{
    /// <summary>Creates the loss; arguments as Keras's.</summary>
    /// <param name="fromLogits">Whether the predictions are logits (no softmax applied).</param>
    /// <param name="labelSmoothing">In [0, 1]; 0 leaves the targets as they are.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is outside [0, 1].</exception>
    public CategoricalCrossentropy(bool fromLogits = false, float labelSmoothing = 0f)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"categorical_crossentropy: label_smoothing must be in [0, 1], got {labelSmoothing}.");
        FromLogits = fromLogits;
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>Whether the predictions are logits.</summary>
    public bool FromLogits { get; }

    /// <summary>The label smoothing factor.</summary>
    public float LabelSmoothing { get; }

    /// <inheritdoc/>
    public override string Name => "categorical_crossentropy";

    /// <inheritdoc/>
    protected override float ComputeCore(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int batch, int outputs, Span<float> gradient)
    {
        float scale = 1f / batch;
        double total = 0;
        for (int n = 0; n < batch; n++)
        {
            var sample = predictions.Slice(n * outputs, outputs);
            var sampleTargets = new DenseTargets(targets.Slice(n * outputs, outputs), LabelSmoothing);
            var sampleGradient = gradient.IsEmpty ? [] : gradient.Slice(n * outputs, outputs);
            total += FromLogits
                ? CrossentropyMath.FromLogits(sample, sampleTargets, sampleGradient, scale)
                : CrossentropyMath.FromProbabilities(sample, sampleTargets, sampleGradient, scale);
        }
        return (float)(total / batch);
    }

    /// <summary>
    /// The fused softmax + cross-entropy step: the mean loss from <paramref name="probabilities"/> (the softmax's output,
    /// clipped as <see cref="Loss.Compute"/> clips it) and the gradient with respect to the softmax's input,
    /// <c>(p · Σt - t) / batch</c> (<c>(p - t) / batch</c> for targets summing to 1), into <paramref name="logitsGradient"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loss was created with <c>fromLogits: true</c>.</exception>
    /// <exception cref="ArgumentException">The lengths do not match the batch.</exception>
    public float ComputeFromSoftmax(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> targets, int batch, Span<float> logitsGradient)
    {
        if (FromLogits) throw new InvalidOperationException($"{Name}: the fused softmax path takes probabilities; this loss was created with from_logits=True.");
        int outputs = CheckShapes(probabilities, targets.Length, batch, logitsGradient);
        if (logitsGradient.IsEmpty) throw new ArgumentException($"{Name}: expected a gradient of {probabilities.Length} values, got none.", nameof(logitsGradient));
        float scale = 1f / batch;
        double total = 0;
        for (int n = 0; n < batch; n++)
        {
            var sampleTargets = new DenseTargets(targets.Slice(n * outputs, outputs), LabelSmoothing);
            total += CrossentropyMath.FromSoftmax(probabilities.Slice(n * outputs, outputs), sampleTargets, logitsGradient.Slice(n * outputs, outputs), scale);
        }
        return (float)(total / batch);
    }
}
