namespace NativeCnn.Training;

/// <summary>Keras <c>BinaryCrossentropy</c>: targets in [0, 1] of the same shape as the predictions.</summary>
/// <remarks>
/// <para>
/// From probabilities: <c>q = clip(p, 1e-7, 1 - 1e-7)</c> and <c>-(t log q + (1 - t) log(1 - q))</c>, with
/// <c>1 - q</c> rounded to float32 as Keras computes it; the gradient <c>(q - t) / (q (1 - q))</c> is zero where the clip
/// is active (outside the closed range). From logits: TensorFlow's stable
/// <c>max(z, 0) - z t + log(1 + exp(-|z|))</c> with gradient <c>sigmoid(z) - t</c>; no clipping, as in the TensorFlow
/// and PyTorch backends.
/// </para>
/// <para>
/// The per-sample loss is the mean over the outputs (<c>axis=-1</c>), so the reported loss is the mean over every
/// element and each gradient entry carries a factor <c>1 / (batch · outputs)</c>. With <c>labelSmoothing</c> ls the
/// targets become <c>t (1 - ls) + ls / 2</c>.
/// </para>
/// </remarks>
/// <param name="fromLogits">Whether the predictions are logits (no sigmoid applied).</param>
/// <param name="labelSmoothing">In [0, 1]; 0 leaves the targets as they are.</param>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is outside [0, 1].</exception>
public sealed class BinaryCrossentropy(bool fromLogits = false, float labelSmoothing = 0f)
    : CrossentropyLoss("binary_crossentropy", fromLogits, labelSmoothing)
{
    /// <inheritdoc/>
    protected override float ComputeCore(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int batch, int outputs, Span<float> gradient)
    {
        // keras/src/losses/losses.py binary_crossentropy: y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing.
        float keep = LabelSmoothing == 0 ? 1f : (float)(1.0 - LabelSmoothing), add = 0.5f * LabelSmoothing;
        float scale = 1f / predictions.Length;
        double total = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            float t = targets[i] * keep + add, x = predictions[i];
            if (FromLogits)
            {
                total += Math.Max(x, 0.0) - (double)x * t + Math.Log(1 + Math.Exp(-Math.Abs((double)x)));
                if (!gradient.IsEmpty) gradient[i] = (float)((1 / (1 + Math.Exp(-(double)x)) - t) * scale);
            }
            else
            {
                float q = Math.Clamp(x, Epsilon, OneMinusEpsilon), oneMinusQ = 1f - q;
                total -= t * Math.Log(q) + (1.0 - t) * Math.Log(oneMinusQ);
                if (!gradient.IsEmpty)
                    gradient[i] = x >= Epsilon && x <= OneMinusEpsilon ? (float)((-(double)t / q + (1.0 - t) / oneMinusQ) * scale) : 0f;
            }
        }
        return (float)(total / predictions.Length);
    }
}
