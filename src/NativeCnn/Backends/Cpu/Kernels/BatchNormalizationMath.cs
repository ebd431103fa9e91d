namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Inference-time BatchNormalization arithmetic: per-channel scale/shift, and folding into a preceding convolution.</summary>
public static class BatchNormalizationMath
{
    /// <summary>
    /// Computes, in float64 and rounded once, <c>scale = gamma / sqrt(variance + epsilon)</c> and
    /// <c>shift = beta − mean · scale</c>, so that <c>y = x · scale + shift</c> (Keras 3's form).
    /// An empty <paramref name="gamma"/> means 1 (<c>scale=False</c>), an empty <paramref name="beta"/> means 0 (<c>center=False</c>).
    /// </summary>
    public static void ComputeScaleShift(ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> movingMean,
                                         ReadOnlySpan<float> movingVariance, double epsilon, Span<float> scale, Span<float> shift)
        => throw new NotImplementedException("assigned: conv kernels helper");

    /// <summary>
    /// Folds a per-output-channel affine (<paramref name="scale"/>, <paramref name="shift"/>) into an HWIO Conv2D kernel
    /// and bias: <c>kernel'[..,f] = kernel[..,f]·scale[f]</c>, <c>bias'[f] = bias[f]·scale[f] + shift[f]</c>.
    /// An empty <paramref name="bias"/> means zeros. The last dimension of the kernel is the output channel.
    /// </summary>
    public static void FoldIntoConv2D(ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias, ReadOnlySpan<float> scale,
                                      ReadOnlySpan<float> shift, Span<float> foldedKernel, Span<float> foldedBias)
        => throw new NotImplementedException("assigned: conv kernels helper");

    /// <summary>
    /// Folds a per-output-channel affine into a depthwise kernel <c>(kh, kw, in, m)</c>, whose output channel is
    /// <c>c·m + q</c>, i.e. again the flattened last two dimensions.
    /// </summary>
    public static void FoldIntoDepthwiseConv2D(ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias, ReadOnlySpan<float> scale,
                                               ReadOnlySpan<float> shift, Span<float> foldedKernel, Span<float> foldedBias)
        => throw new NotImplementedException("assigned: conv kernels helper");
}
