namespace NativeCnn.Training;

/// <summary>The target distribution of one sample, as the categorical cross-entropies read it.</summary>
internal interface ISampleTargets
{
    /// <summary>The target probability of class <paramref name="c"/>.</summary>
    float this[int c] { get; }

    /// <summary>The sum of the targets (1 for one-hot and smoothed one-hot targets).</summary>
    float Sum { get; }
}

/// <summary>A row of dense targets, smoothed as Keras's <c>categorical_crossentropy</c> smooths them.</summary>
internal readonly ref struct DenseTargets : ISampleTargets
{
    private readonly ReadOnlySpan<float> _targets;
    private readonly float _keep, _add;

    public DenseTargets(ReadOnlySpan<float> targets, float labelSmoothing)
    {
        _targets = targets;
        // keras/src/losses/losses.py: y_true * (1.0 - label_smoothing) + label_smoothing / num_classes, in float32.
        _keep = labelSmoothing == 0 ? 1f : (float)(1.0 - labelSmoothing);
        _add = labelSmoothing == 0 ? 0f : labelSmoothing / targets.Length;
        float sum = 0;
        foreach (float t in targets) sum += t * _keep + _add;
        Sum = sum;
    }

    public float this[int c] => _targets[c] * _keep + _add;

    public float Sum { get; }
}

/// <summary>A one-hot target given by its class index.</summary>
internal readonly struct SparseTarget(int label) : ISampleTargets
{
    public float this[int c] => c == label ? 1f : 0f;

    public float Sum => 1f;
}

/// <summary>
/// Per-sample categorical cross-entropy from probabilities (Keras's renormalise-then-clip), from logits (log-softmax) and
/// from a softmax output (the fused gradient), generic over how targets are stored so that the JIT specializes each.
/// </summary>
internal static class CrossentropyMath
{
    /// <summary>What the predictions of <see cref="Sample"/> are.</summary>
    public enum Input
    {
        /// <summary>Probabilities: <see cref="FromProbabilities"/>.</summary>
        Probabilities,
        /// <summary>Logits: <see cref="FromLogits"/>.</summary>
        Logits,
        /// <summary>A softmax's output, the gradient taken with respect to its input: <see cref="FromSoftmax"/>.</summary>
        Softmax,
    }

    /// <summary>Sample <paramref name="n"/> of a <c>(batch, outputs)</c> batch: its loss, and its rows of
    /// <paramref name="gradient"/> unless that is empty.</summary>
    public static double Sample<T>(ReadOnlySpan<float> predictions, in T targets, int n, int outputs, Span<float> gradient, float scale, Input input)
        where T : ISampleTargets, allows ref struct
    {
        var sample = predictions.Slice(n * outputs, outputs);
        var sampleGradient = gradient.IsEmpty ? [] : gradient.Slice(n * outputs, outputs);
        return input switch
        {
            Input.Softmax => FromSoftmax(sample, targets, sampleGradient, scale),
            Input.Logits => FromLogits(sample, targets, sampleGradient, scale),
            _ => FromProbabilities(sample, targets, sampleGradient, scale),
        };
    }

    /// <summary>
    /// Keras's <c>categorical_crossentropy</c> from probabilities for one sample: <c>y = p / sum(p)</c>,
    /// <c>q = clip(y, 1e-7, 1 - 1e-7)</c>, loss <c>-sum(t · log q)</c>. When <paramref name="gradient"/> is not empty
    /// it receives <paramref name="scale"/> · dloss/dp, differentiating the clip as TensorFlow does (zero outside the
    /// closed range) and the renormalisation exactly: <c>dL/dp_j = (g_j - Σ_c g_c y_c) / sum(p)</c>.
    /// </summary>
    public static double FromProbabilities<T>(ReadOnlySpan<float> p, in T targets, Span<float> gradient, float scale)
        where T : ISampleTargets, allows ref struct
    {
        double sum = 0;
        foreach (float value in p) sum += value;
        float total = (float)sum;
        double loss = 0, dot = 0;
        for (int c = 0; c < p.Length; c++)
        {
            float y = p[c] / total;
            float q = Math.Clamp(y, Loss.Epsilon, Loss.OneMinusEpsilon);
            float t = targets[c];
            if (t != 0) loss -= t * Math.Log(q);
            if (!gradient.IsEmpty)
            {
                float g = y >= Loss.Epsilon && y <= Loss.OneMinusEpsilon ? -t / q : 0f;
                gradient[c] = g;
                dot += (double)g * y;
            }
        }
        if (!gradient.IsEmpty)
        {
            for (int c = 0; c < p.Length; c++) gradient[c] = (float)((gradient[c] - dot) / total * scale);
        }
        return loss;
    }

    /// <summary>
    /// Cross-entropy from logits for one sample with a stable log-softmax: <c>lse = m + log Σ exp(z - m)</c> with
    /// <c>m = max z</c>, loss <c>-Σ t (z - lse)</c>; the gradient is <c>scale · (softmax(z) · Σt - t)</c>.
    /// </summary>
    public static double FromLogits<T>(ReadOnlySpan<float> z, in T targets, Span<float> gradient, float scale)
        where T : ISampleTargets, allows ref struct
    {
        float max = float.NegativeInfinity;
        foreach (float value in z) max = Math.Max(max, value);
        double sumExp = 0;
        foreach (float value in z) sumExp += Math.Exp((double)value - max);
        double logSumExp = max + Math.Log(sumExp);
        double loss = 0;
        float targetSum = targets.Sum;
        for (int c = 0; c < z.Length; c++)
        {
            float t = targets[c];
            if (t != 0) loss -= t * (z[c] - logSumExp);
            if (!gradient.IsEmpty) gradient[c] = (float)((Math.Exp((double)z[c] - max) / sumExp * targetSum - t) * scale);
        }
        return loss;
    }

    /// <summary>
    /// The fused softmax + cross-entropy step: the loss from probabilities as <see cref="FromProbabilities"/> reports it,
    /// and the gradient with respect to the softmax's input, <c>scale · (p · Σt - t)</c>.
    /// </summary>
    public static double FromSoftmax<T>(ReadOnlySpan<float> p, in T targets, Span<float> logitsGradient, float scale)
        where T : ISampleTargets, allows ref struct
    {
        double loss = FromProbabilities(p, targets, [], scale);
        float targetSum = targets.Sum;
        for (int c = 0; c < p.Length; c++) logitsGradient[c] = (p[c] * targetSum - targets[c]) * scale;
        return loss;
    }
}
