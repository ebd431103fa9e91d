namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// The gradients of layer normalization over the last axis (Keras <c>LayerNormalization(axis=-1)</c>):
/// <c>y = x̂ · γ + β</c> with <c>x̂ = (x − μ) · r</c>, <c>r = 1 / √(σ² + ε)</c>, the mean and biased variance of each row.
/// </summary>
/// <remarks>
/// Each row's statistics are recomputed from the forward input exactly as the inference op computes them (float64 sums,
/// the mean and variance rounded to float32), so nothing is kept between the passes. Per row:
/// <c>dx = r · (g − mean(g) − x̂ · mean(g · x̂))</c> with <c>g = dy · γ</c>, summed in float64;
/// <c>dγ += Σ_rows dy · x̂</c>, <c>dβ += Σ_rows dy</c>. Rows are independent, so callers split them; the weight gradients of
/// disjoint row ranges go to separate partial buffers. Scalar code: rows here are channel vectors, not a hot path.
/// </remarks>
public static class LayerNormalizationBackwardKernels
{
    /// <summary>
    /// The gradients of rows <paramref name="rows"/> of <c>length</c> values each.
    /// </summary>
    /// <param name="input">The forward input, <c>rows × length</c>.</param>
    /// <param name="outputGradient">The gradient of the output, as long as <paramref name="input"/>.</param>
    /// <param name="gamma">The scale, <c>length</c> values, or empty for <c>scale=False</c>.</param>
    /// <param name="length">Values per row (the last axis).</param>
    /// <param name="epsilon">Keras <c>epsilon</c>.</param>
    /// <param name="inputGradient">Receives <c>dx</c> (added when <paramref name="accumulate"/>), or empty.</param>
    /// <param name="gammaGradient">Gets <c>Σ dy · x̂</c> over the rows added, <c>length</c> values, or empty.</param>
    /// <param name="betaGradient">Gets <c>Σ dy</c> over the rows added, <c>length</c> values, or empty.</param>
    /// <param name="rows">The rows to compute.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> instead of overwriting it. The weight gradients are always
    /// added to: a caller splitting rows gives each range its own partial buffers, cleared, and sums them.</param>
    /// <exception cref="ArgumentException">A length does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is outside the input's rows.</exception>
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> gamma, int length, double epsilon,
                                Span<float> inputGradient, Span<float> gammaGradient, Span<float> betaGradient, RowRange rows, bool accumulate)
    {
        if (length < 1 || input.Length % length != 0)
            throw new ArgumentException($"input has {input.Length} values, not a positive multiple of rows of {length}", nameof(length));
        Check(outputGradient.Length, input.Length, nameof(outputGradient));
        if (!gamma.IsEmpty) Check(gamma.Length, length, nameof(gamma));
        if (!inputGradient.IsEmpty) Check(inputGradient.Length, input.Length, nameof(inputGradient));
        if (!gammaGradient.IsEmpty) Check(gammaGradient.Length, length, nameof(gammaGradient));
        if (!betaGradient.IsEmpty) Check(betaGradient.Length, length, nameof(betaGradient));
        BackwardLoops.CheckRows(rows, input.Length / length, nameof(rows));
        for (int row = rows.Start; row < rows.End; row++)
        {
            var x = input.Slice(row * length, length);
            var dy = outputGradient.Slice(row * length, length);
            var (mean, inverse) = Statistics(x, epsilon);
            double sumG = 0, sumGx = 0;
            for (int c = 0; c < length; c++)
            {
                double xhat = (x[c] - (double)mean) * inverse;
                double g = gamma.IsEmpty ? dy[c] : (double)dy[c] * gamma[c];
                sumG += g;
                sumGx += g * xhat;
                if (!gammaGradient.IsEmpty) gammaGradient[c] += (float)(dy[c] * xhat);
                if (!betaGradient.IsEmpty) betaGradient[c] += dy[c];
            }
            if (inputGradient.IsEmpty) continue;
            double meanG = sumG / length, meanGx = sumGx / length;
            var dx = inputGradient.Slice(row * length, length);
            for (int c = 0; c < length; c++)
            {
                double xhat = (x[c] - (double)mean) * inverse;
                double g = gamma.IsEmpty ? dy[c] : (double)dy[c] * gamma[c];
                float value = (float)(inverse * (g - meanG - xhat * meanGx));
                dx[c] = accumulate ? dx[c] + value : value;
            }
        }
    }

    /// <summary>
    /// A row's mean and <c>1 / √(σ² + ε)</c> as the inference op computes them: float64 sums, the mean and the biased
    /// variance rounded to float32, the reciprocal square root to float32.
    /// </summary>
    public static (float Mean, float Inverse) Statistics(ReadOnlySpan<float> row, double epsilon)
    {
        double sum = 0;
        foreach (float v in row) sum += v;
        float mean = (float)(sum / row.Length);
        double squares = 0;
        foreach (float v in row) squares += (double)(v - mean) * (v - mean);
        return (mean, (float)(1 / Math.Sqrt((float)(squares / row.Length) + epsilon)));
    }

    private static void Check(int length, long expected, string name)
    {
        if (length != expected) throw new ArgumentException($"{name} has {length} elements, expected {expected}", name);
    }
}
