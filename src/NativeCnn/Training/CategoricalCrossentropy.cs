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
/// <param name="fromLogits">Whether the predictions are logits (no softmax applied).</param>
/// <param name="labelSmoothing">In [0, 1]; 0 leaves the targets as they are.</param>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is outside [0, 1].</exception>
public sealed class CategoricalCrossentropy(bool fromLogits = false, float labelSmoothing = 0f)
    : CrossentropyLoss("categorical_crossentropy", fromLogits, labelSmoothing)
{
    /// <inheritdoc/>
    protected override float ComputeCore(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int batch, int outputs, Span<float> gradient)
    {
        return Mean(predictions, targets, batch, outputs, gradient, FromLogits ? CrossentropyMath.Input.Logits : CrossentropyMath.Input.Probabilities);
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
        int outputs = CheckFusedSoftmax(FromLogits, probabilities, targets.Length, batch, logitsGradient);
        return Mean(probabilities, targets, batch, outputs, logitsGradient, CrossentropyMath.Input.Softmax);
    }

    private float Mean(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int batch, int outputs, Span<float> gradient, CrossentropyMath.Input input)
    {
        float scale = 1f / batch;
        double total = 0;
        for (int n = 0; n < batch; n++)
            total += CrossentropyMath.Sample(predictions, new DenseTargets(targets.Slice(n * outputs, outputs), LabelSmoothing), n, outputs, gradient, scale, input);
        return (float)(total / batch);
    }
}
