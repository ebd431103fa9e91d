namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Shapes and window arithmetic of one NHWC 2-D convolution; pads are explicit (bottom/right implied by output size).</summary>
public readonly record struct Conv2DParams(
    int Batch, int InputHeight, int InputWidth, int InputChannels,
    int OutputHeight, int OutputWidth, int OutputChannels,
    int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth,
    int DilationHeight, int DilationWidth, int PadTop, int PadLeft)
{
    /// <summary>Work rows: one per output row of each image, <c>Batch * OutputHeight</c>.</summary>
    public int RowCount => Batch * OutputHeight;
}

/// <summary>NHWC 2-D convolution kernels over spans.</summary>
public static class Conv2DKernels
{
    /// <summary>
    /// Computes output rows <paramref name="rows"/> (indices into <c>batch × outputHeight</c>) of
    /// <c>output[n,y,x,f] = act(bias[f] + Σ input[n, y·sh + ky·dh − padTop, x·sw + kx·dw − padLeft, c] · kernel[ky,kx,c,f])</c>,
    /// with out-of-bounds input read as zero.
    /// </summary>
    /// <param name="input">NHWC input.</param>
    /// <param name="kernel">HWIO kernel <c>(kh, kw, inChannels, outChannels)</c>.</param>
    /// <param name="bias">One value per output channel, or empty for none.</param>
    /// <param name="output">NHWC output.</param>
    /// <param name="p">Shapes and window arithmetic.</param>
    /// <param name="activation">Fused epilogue.</param>
    /// <param name="rows">The output rows to compute.</param>
    public static void Nhwc<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                         Span<float> output, in Conv2DParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
        => throw new NotImplementedException("assigned: conv kernels helper");
}
