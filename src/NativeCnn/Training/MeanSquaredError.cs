namespace NativeCnn.Training;

/// <summary>Keras <c>MeanSquaredError</c>: <c>mean((t - p)²)</c> over the outputs, then over the batch.</summary>
/// <remarks>The gradient is <c>2 (p - t) / (batch · outputs)</c>.</remarks>
public sealed class MeanSquaredError : Loss
{
    /// <inheritdoc/>
    public override string Name => "mean_squared_error";

    /// <inheritdoc/>
    protected override float ComputeCore(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int batch, int outputs, Span<float> gradient)
    {
        float scale = 2f / predictions.Length;
        double total = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            float difference = predictions[i] - targets[i];
            total += (double)difference * difference;
            if (!gradient.IsEmpty) gradient[i] = difference * scale;
        }
        return (float)(total / predictions.Length);
    }
}
