namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Element-wise kernels over whole spans; a caller that threads them passes disjoint slices
/// (for per-channel kernels, slices that start on a pixel boundary).
/// </summary>
public static class ElementwiseKernels
{
    /// <summary><c>output[i] = act(input[i])</c>. <paramref name="output"/> may be <paramref name="input"/>.</summary>
    public static void Apply<TActivation>(ReadOnlySpan<float> input, Span<float> output, TActivation activation)
        where TActivation : struct, IActivation
        => throw new NotImplementedException("assigned: elementwise kernels helper");

    /// <summary><c>output[i] = left[i] + right[i]</c>. <paramref name="output"/> may alias either input.</summary>
    public static void Add(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output)
        => throw new NotImplementedException("assigned: elementwise kernels helper");

    /// <summary><c>output[i] = left[i] · right[i]</c>. <paramref name="output"/> may alias either input.</summary>
    public static void Multiply(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output)
        => throw new NotImplementedException("assigned: elementwise kernels helper");

    /// <summary>
    /// <c>output[p, c] = input[p, c] · channelScale[c]</c> for pixels-major data with <c>channelScale.Length</c> channels
    /// (the excite step of squeeze-and-excitation).
    /// </summary>
    public static void MultiplyByChannel(ReadOnlySpan<float> input, ReadOnlySpan<float> channelScale, Span<float> output)
        => throw new NotImplementedException("assigned: elementwise kernels helper");

    /// <summary>
    /// <c>output[p, c] = act(input[p, c] · scale[c] + shift[c])</c>: inference BatchNormalization, Rescaling and
    /// Normalization. <c>scale.Length</c> is the channel count.
    /// </summary>
    public static void ChannelAffine<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
                                                  Span<float> output, TActivation activation)
        where TActivation : struct, IActivation
        => throw new NotImplementedException("assigned: elementwise kernels helper");

    /// <summary>
    /// Softmax over one row: <c>output[i] = exp(input[i] − max) / Σ exp(input[j] − max)</c>. The max is subtracted for
    /// stability, as Keras does. <paramref name="output"/> may be <paramref name="input"/>.
    /// </summary>
    public static void Softmax(ReadOnlySpan<float> input, Span<float> output)
        => throw new NotImplementedException("assigned: elementwise kernels helper");
}
