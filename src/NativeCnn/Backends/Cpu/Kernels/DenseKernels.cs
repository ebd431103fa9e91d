namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Shapes of one fully connected layer.</summary>
public readonly record struct DenseParams(int Batch, int InputFeatures, int Units);

/// <summary>Fully connected kernels.</summary>
public static class DenseKernels
{
    /// <summary>
    /// <c>output[n, u] = act(bias[u] + Σ_i input[n, i] · kernel[i, u])</c> for batch rows <paramref name="rows"/>.
    /// </summary>
    /// <param name="input"><c>(batch, inputFeatures)</c>.</param>
    /// <param name="kernel"><c>(inputFeatures, units)</c>, Keras layout.</param>
    /// <param name="bias"><c>(units)</c>, or empty.</param>
    /// <param name="output"><c>(batch, units)</c>.</param>
    /// <param name="p">Shapes.</param>
    /// <param name="activation">Fused element-wise epilogue (softmax is applied by the caller afterwards).</param>
    /// <param name="rows">Batch rows to compute.</param>
    public static void Forward<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                            Span<float> output, in DenseParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
        => throw new NotImplementedException("assigned: elementwise kernels helper");
}
