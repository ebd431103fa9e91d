namespace NativeCnn.Training;

/// <summary>Keras <c>SparseCategoricalCrossentropy</c>: one integer class index per sample.</summary>
/// <remarks>
/// <para>
/// Targets have one value per sample: a float holding an integer class index in <c>[0, classes)</c> (Keras casts
/// integer labels the same way; float32 holds every index below 2^24 exactly), or an int span through the
/// <see cref="Compute(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{float})"/> overload. A label that is not such an
/// index is an error (TensorFlow's kernel raises too; other backends return garbage).
/// </para>
/// <para>
/// The arithmetic is that of <see cref="CategoricalCrossentropy"/> with a one-hot target. Keras 3's sparse loss has no
/// label smoothing (its constructor takes none), so neither has this one. <c>ignore_class</c> is not supported.
/// </para>
/// </remarks>
/// <param name="fromLogits">Whether the predictions are logits (no softmax applied).</param>
public sealed class SparseCategoricalCrossentropy(bool fromLogits = false) : Loss
{
    /// <summary>Whether the predictions are logits.</summary>
    public bool FromLogits { get; } = fromLogits;

    /// <inheritdoc/>
    public override string Name => "sparse_categorical_crossentropy";

    /// <summary>One label per sample.</summary>
    public override int TargetsPerSample(int outputsPerSample) => 1;

    /// <summary>As <see cref="Loss.Compute"/>, with integer labels.</summary>
    /// <exception cref="ArgumentException">The lengths do not match the batch, or a label is outside <c>[0, classes)</c>.</exception>
    public float Compute(ReadOnlySpan<float> predictions, ReadOnlySpan<int> labels, int batch, Span<float> gradient)
    {
        int outputs = CheckShapes(predictions, labels.Length, batch, gradient);
        float scale = 1f / batch;
        double total = 0;
        for (int n = 0; n < batch; n++) total += Sample(predictions, Check(labels[n], n, outputs), n, outputs, gradient, scale, Input);
        return (float)(total / batch);
    }

    /// <inheritdoc/>
    protected override float ComputeCore(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int batch, int outputs, Span<float> gradient)
    {
        float scale = 1f / batch;
        double total = 0;
        for (int n = 0; n < batch; n++) total += Sample(predictions, Check(targets[n], n, outputs), n, outputs, gradient, scale, Input);
        return (float)(total / batch);
    }

    /// <summary>
    /// The fused softmax + cross-entropy step (see <see cref="CategoricalCrossentropy.ComputeFromSoftmax"/>): the mean
    /// loss from the softmax's output and the gradient with respect to its input, <c>(p - onehot(label)) / batch</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loss was created with <c>fromLogits: true</c>.</exception>
    /// <exception cref="ArgumentException">The lengths do not match the batch, or a label is not a class index.</exception>
    public float ComputeFromSoftmax(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels, int batch, Span<float> logitsGradient)
    {
        int outputs = CheckFusedSoftmax(FromLogits, probabilities, labels.Length, batch, logitsGradient);
        float scale = 1f / batch;
        double total = 0;
        for (int n = 0; n < batch; n++) total += Sample(probabilities, Check(labels[n], n, outputs), n, outputs, logitsGradient, scale, CrossentropyMath.Input.Softmax);
        return (float)(total / batch);
    }

    private CrossentropyMath.Input Input => FromLogits ? CrossentropyMath.Input.Logits : CrossentropyMath.Input.Probabilities;

    private static double Sample(ReadOnlySpan<float> predictions, int label, int n, int outputs, Span<float> gradient, float scale, CrossentropyMath.Input input) =>
        CrossentropyMath.Sample(predictions, new SparseTarget(label), n, outputs, gradient, scale, input);

    private int Check(float label, int n, int classes)
    {
        int index = (int)label;
        if (index != label || index < 0 || index >= classes)
            throw new ArgumentException($"{Name}: label {label} of sample {n} is not a class index in [0, {classes}).", "targets");
        return index;
    }

    private int Check(int label, int n, int classes)
    {
        if ((uint)label >= (uint)classes)
            throw new ArgumentException($"{Name}: label {label} of sample {n} is not a class index in [0, {classes}).", "labels");
        return label;
    }
}
