namespace NativeCnn.Layers;

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
    {
        int channels = movingMean.Length;
        if (movingVariance.Length != channels || scale.Length < channels || shift.Length < channels
            || (!gamma.IsEmpty && gamma.Length != channels) || (!beta.IsEmpty && beta.Length != channels))
            throw new ArgumentException($"BatchNormalization parameters disagree on the channel count {channels}.");
        for (int c = 0; c < channels; c++)
        {
            // The shift uses the unrounded float64 scale, so each output is rounded exactly once.
            double s = (gamma.IsEmpty ? 1.0 : gamma[c]) / Math.Sqrt(movingVariance[c] + epsilon);
            scale[c] = (float)s;
            shift[c] = (float)((beta.IsEmpty ? 0.0 : beta[c]) - movingMean[c] * s);
        }
    }

    /// <summary>
    /// Folds a per-output-channel affine (<paramref name="scale"/>, <paramref name="shift"/>) into an HWIO Conv2D kernel
    /// and bias: <c>kernel'[..,f] = kernel[..,f]·scale[f]</c>, <c>bias'[f] = bias[f]·scale[f] + shift[f]</c>.
    /// An empty <paramref name="bias"/> means zeros. The last dimension of the kernel is the output channel.
    /// </summary>
    public static void FoldIntoConv2D(ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias, ReadOnlySpan<float> scale,
                                      ReadOnlySpan<float> shift, Span<float> foldedKernel, Span<float> foldedBias)
        => Fold(kernel, bias, scale, shift, foldedKernel, foldedBias);

    /// <summary>
    /// Folds a per-output-channel affine into a depthwise kernel <c>(kh, kw, in, m)</c>, whose output channel is
    /// <c>c·m + q</c>, i.e. again the flattened last two dimensions.
    /// </summary>
    public static void FoldIntoDepthwiseConv2D(ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias, ReadOnlySpan<float> scale,
                                               ReadOnlySpan<float> shift, Span<float> foldedKernel, Span<float> foldedBias)
        => Fold(kernel, bias, scale, shift, foldedKernel, foldedBias);

    /// <summary>Both layouts keep the output channel innermost, so one fold serves: the kernel is a (taps × outputs) matrix.</summary>
    private static void Fold(ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias, ReadOnlySpan<float> scale,
                             ReadOnlySpan<float> shift, Span<float> foldedKernel, Span<float> foldedBias)
    {
        int outputs = scale.Length;
        if (outputs == 0 || shift.Length != outputs || kernel.Length % outputs != 0 || foldedKernel.Length < kernel.Length
            || foldedBias.Length < outputs || (!bias.IsEmpty && bias.Length != outputs))
            throw new ArgumentException($"Kernel of {kernel.Length} values does not fold with {outputs} output channels.");
        for (int i = 0; i < kernel.Length; i += outputs)
        {
            for (int f = 0; f < outputs; f++) foldedKernel[i + f] = kernel[i + f] * scale[f];
        }
        for (int f = 0; f < outputs; f++)
            foldedBias[f] = (float)((bias.IsEmpty ? 0.0 : (double)bias[f] * scale[f]) + shift[f]);
    }
}
