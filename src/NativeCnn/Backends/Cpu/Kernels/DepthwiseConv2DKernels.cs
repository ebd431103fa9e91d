namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Shapes and window arithmetic of one NHWC depthwise convolution.</summary>
public readonly record struct DepthwiseConv2DParams(
    int Batch, int InputHeight, int InputWidth, int InputChannels,
    int OutputHeight, int OutputWidth, int DepthMultiplier,
    int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth,
    int DilationHeight, int DilationWidth, int PadTop, int PadLeft)
{
    /// <summary>Output channels: <c>InputChannels * DepthMultiplier</c>.</summary>
    public int OutputChannels => InputChannels * DepthMultiplier;

    /// <summary>Work rows: <c>Batch * OutputHeight</c>.</summary>
    public int RowCount => Batch * OutputHeight;
}

/// <summary>NHWC depthwise convolution kernels, vectorized over channels.</summary>
public static class DepthwiseConv2DKernels
{
    /// <summary>
    /// Computes output rows <paramref name="rows"/> of
    /// <c>output[n,y,x,c·m+q] = act(bias[c·m+q] + Σ input[n, y·sh + ky·dh − padTop, x·sw + kx·dw − padLeft, c] · kernel[ky,kx,c,q])</c>.
    /// </summary>
    /// <param name="input">NHWC input.</param>
    /// <param name="kernel">Kernel <c>(kh, kw, inChannels, depthMultiplier)</c>.</param>
    /// <param name="bias">One value per output channel, or empty.</param>
    /// <param name="output">NHWC output.</param>
    /// <param name="p">Shapes and window arithmetic.</param>
    /// <param name="activation">Fused epilogue.</param>
    /// <param name="rows">The output rows to compute.</param>
    public static void Nhwc<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                         Span<float> output, in DepthwiseConv2DParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
        => throw new NotImplementedException("assigned: conv kernels helper");
}
