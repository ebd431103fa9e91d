using System.Runtime.Intrinsics;

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

/// <summary>
/// NHWC depthwise convolution kernels, vectorized over channels. With a depth multiplier of 1 (every Keras
/// application) input channel <c>c</c> feeds only output channel <c>c</c>, so a vector of channels is a vector of
/// independent sums; each pixel clips its own tap range, so the inner loops never test bounds.
/// </summary>
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
    {
        if (Vector512.IsHardwareAccelerated) NhwcVector512(input, kernel, bias, output, p, activation, rows);
        else if (Vector256.IsHardwareAccelerated) NhwcVector256(input, kernel, bias, output, p, activation, rows);
        else NhwcScalar(input, kernel, bias, output, p, activation, rows);
    }

    /// <summary><see cref="Nhwc"/> with 16-lane channel vectors (depth multiplier 1), then 8-lane and scalar tails.</summary>
    internal static void NhwcVector512<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                    Span<float> output, in DepthwiseConv2DParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
        => Run(input, kernel, bias, output, p, activation, rows, 16);

    /// <summary><see cref="Nhwc"/> with 8-lane channel vectors (depth multiplier 1), then a scalar tail.</summary>
    internal static void NhwcVector256<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                    Span<float> output, in DepthwiseConv2DParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
        => Run(input, kernel, bias, output, p, activation, rows, 8);

    /// <summary><see cref="Nhwc"/> in scalar code.</summary>
    internal static void NhwcScalar<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                 Span<float> output, in DepthwiseConv2DParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
        => Run(input, kernel, bias, output, p, activation, rows, 1);

    // lanes: the widest vector to use, 16 or 8, or 1 for scalar code only.
    private static unsafe void Run<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                Span<float> output, in DepthwiseConv2DParams p, TActivation activation, RowRange rows,
                                                int lanes)
        where TActivation : struct, IActivation
    {
        Validate(input, kernel, bias, output, p, rows);
        int channels = p.InputChannels, outChannels = p.OutputChannels;
        nint tapRowStride = (nint)p.DilationHeight * p.InputWidth * channels;
        nint tapColumnStride = (nint)p.DilationWidth * channels;
        fixed (float* inputPtr = input, kernelPtr = kernel, biasPtr = bias, outputPtr = output)
        {
            float* biasOrNull = bias.IsEmpty ? null : biasPtr;
            Conv2DKernels.InteriorColumns(p.InputWidth, p.OutputWidth, p.KernelWidth, p.StrideWidth, p.DilationWidth, p.PadLeft,
                                          out int interiorStart, out int interiorEnd);
            for (int row = rows.Start; row < rows.End; row++)
            {
                int n = row / p.OutputHeight, oy = row - n * p.OutputHeight;
                int iy = oy * p.StrideHeight - p.PadTop;
                Conv2DKernels.ValidTaps(iy, p.KernelHeight, p.DilationHeight, p.InputHeight, out int ky0, out int ky1);
                float* srcRow = inputPtr + (((nint)n * p.InputHeight + iy) * p.InputWidth - p.PadLeft) * channels;
                float* dstRow = outputPtr + (nint)row * p.OutputWidth * outChannels;
                var pixel = new Pixel
                {
                    Kernel = kernelPtr,
                    Bias = biasOrNull,
                    Channels = channels,
                    KernelWidth = p.KernelWidth,
                    TapRowStride = tapRowStride,
                    TapColumnStride = tapColumnStride,
                    PixelStride = (nint)p.StrideWidth * channels,
                    Ky0 = ky0, Ky1 = ky1,
                };
                int ox = 0;
                if (p.DepthMultiplier == 1 && lanes > 1)
                {
                    // Interior pixels go TilePixels at a time: one kernel load serves several pixels.
                    for (; ox < interiorStart; ox++) OnePixel(ref pixel, p, srcRow, dstRow, ox, lanes, activation);
                    pixel.Kx0 = 0;
                    pixel.Kx1 = p.KernelWidth;
                    for (; ox + Conv2DKernels.TilePixels <= interiorEnd; ox += Conv2DKernels.TilePixels)
                    {
                        pixel.Src = srcRow + (nint)ox * pixel.PixelStride;
                        pixel.Dst = dstRow + (nint)ox * outChannels;
                        int c = lanes == 16 ? Tile512(pixel, activation) : 0;
                        c = Tile256(pixel, c, activation);
                        for (int i = 0; i < Conv2DKernels.TilePixels; i++)
                        {
                            var single = pixel;
                            single.Src += i * pixel.PixelStride;
                            single.Dst += (nint)i * outChannels;
                            ScalarChannels(single, c, activation);
                        }
                    }
                }
                for (; ox < p.OutputWidth; ox++) OnePixel(ref pixel, p, srcRow, dstRow, ox, lanes, activation);
            }
        }
    }

    private static unsafe void OnePixel<TActivation>(ref Pixel pixel, in DepthwiseConv2DParams p, float* srcRow, float* dstRow, int ox,
                                                     int lanes, TActivation activation)
        where TActivation : struct, IActivation
    {
        int ix = ox * p.StrideWidth;
        Conv2DKernels.ValidTaps(ix - p.PadLeft, p.KernelWidth, p.DilationWidth, p.InputWidth, out pixel.Kx0, out pixel.Kx1);
        pixel.Src = srcRow + (nint)ix * p.InputChannels;
        pixel.Dst = dstRow + (nint)ox * p.OutputChannels;
        if (p.DepthMultiplier != 1) ScalarMultiplier(pixel, p.DepthMultiplier, activation);
        else
        {
            int c = 0;
            if (lanes == 16) c = Channels512(pixel, activation);
            if (lanes >= 8) c = Channels256(pixel, c, activation);
            ScalarChannels(pixel, c, activation);
        }
    }

    /// <summary><see cref="Conv2DKernels.TilePixels"/> interior pixels, 16 channels at a time; returns the first channel left.</summary>
    private static unsafe int Tile512<TActivation>(in Pixel px, TActivation activation)
        where TActivation : struct, IActivation
    {
        int c = 0, channels = px.Channels;
        nint ps = px.PixelStride;
        for (; c + 16 <= channels; c += 16)
        {
            var b = px.Bias == null ? Vector512<float>.Zero : Vector512.Load(px.Bias + c);
            Vector512<float> a0 = b, a1 = b, a2 = b, a3 = b;
            for (int ky = px.Ky0; ky < px.Ky1; ky++)
            {
                float* x = px.Src + ky * px.TapRowStride + c;
                float* w = px.Kernel + (nint)ky * px.KernelWidth * channels + c;
                for (int kx = 0; kx < px.KernelWidth; kx++, x += px.TapColumnStride, w += channels)
                {
                    var k = Vector512.Load(w);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(x), k, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(x + ps), k, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Load(x + 2 * ps), k, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Load(x + 3 * ps), k, a3);
                }
            }
            float* o = px.Dst + c;
            nint os = channels;
            Vector512.Store(activation.Invoke(a0), o);
            Vector512.Store(activation.Invoke(a1), o + os);
            Vector512.Store(activation.Invoke(a2), o + 2 * os);
            Vector512.Store(activation.Invoke(a3), o + 3 * os);
        }
        return c;
    }

    /// <summary><see cref="Conv2DKernels.TilePixels"/> interior pixels, 8 channels at a time from <paramref name="c"/>; returns the first channel left.</summary>
    private static unsafe int Tile256<TActivation>(in Pixel px, int c, TActivation activation)
        where TActivation : struct, IActivation
    {
        int channels = px.Channels;
        nint ps = px.PixelStride;
        for (; c + 8 <= channels; c += 8)
        {
            var b = px.Bias == null ? Vector256<float>.Zero : Vector256.Load(px.Bias + c);
            Vector256<float> a0 = b, a1 = b, a2 = b, a3 = b;
            for (int ky = px.Ky0; ky < px.Ky1; ky++)
            {
                float* x = px.Src + ky * px.TapRowStride + c;
                float* w = px.Kernel + (nint)ky * px.KernelWidth * channels + c;
                for (int kx = 0; kx < px.KernelWidth; kx++, x += px.TapColumnStride, w += channels)
                {
                    var k = Vector256.Load(w);
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Load(x), k, a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + ps), k, a1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Load(x + 2 * ps), k, a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Load(x + 3 * ps), k, a3);
                }
            }
            float* o = px.Dst + c;
            nint os = channels;
            Vector256.Store(activation.Invoke(a0), o);
            Vector256.Store(activation.Invoke(a1), o + os);
            Vector256.Store(activation.Invoke(a2), o + 2 * os);
            Vector256.Store(activation.Invoke(a3), o + 3 * os);
        }
        return c;
    }

    /// <summary>One output pixel: <c>Src</c> is the input at tap (0, 0), possibly in the padding; only the clipped taps are read.</summary>
    private unsafe struct Pixel
    {
        public float* Src;
        public float* Dst;
        public float* Kernel;
        public float* Bias;
        public int Channels;
        public int KernelWidth;
        public nint TapRowStride;
        public nint TapColumnStride;
        public nint PixelStride;
        public int Ky0, Ky1, Kx0, Kx1;
    }

    /// <summary>Channels in blocks of 16 (two vectors at a time while they last); returns the first channel left.</summary>
    private static unsafe int Channels512<TActivation>(in Pixel px, TActivation activation)
        where TActivation : struct, IActivation
    {
        int c = 0, channels = px.Channels;
        for (; c + 32 <= channels; c += 32)
        {
            var a0 = px.Bias == null ? Vector512<float>.Zero : Vector512.Load(px.Bias + c);
            var a1 = px.Bias == null ? Vector512<float>.Zero : Vector512.Load(px.Bias + c + 16);
            for (int ky = px.Ky0; ky < px.Ky1; ky++)
            {
                for (int kx = px.Kx0; kx < px.Kx1; kx++)
                {
                    float* x = px.Src + ky * px.TapRowStride + kx * px.TapColumnStride + c;
                    float* w = px.Kernel + (nint)(ky * px.KernelWidth + kx) * channels + c;
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(x), Vector512.Load(w), a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(x + 16), Vector512.Load(w + 16), a1);
                }
            }
            Vector512.Store(activation.Invoke(a0), px.Dst + c);
            Vector512.Store(activation.Invoke(a1), px.Dst + c + 16);
        }
        if (c + 16 <= channels)
        {
            var a = px.Bias == null ? Vector512<float>.Zero : Vector512.Load(px.Bias + c);
            for (int ky = px.Ky0; ky < px.Ky1; ky++)
            {
                for (int kx = px.Kx0; kx < px.Kx1; kx++)
                {
                    float* x = px.Src + ky * px.TapRowStride + kx * px.TapColumnStride + c;
                    float* w = px.Kernel + (nint)(ky * px.KernelWidth + kx) * channels + c;
                    a = Vector512.FusedMultiplyAdd(Vector512.Load(x), Vector512.Load(w), a);
                }
            }
            Vector512.Store(activation.Invoke(a), px.Dst + c);
            c += 16;
        }
        return c;
    }

    /// <summary>Channels from <paramref name="c"/> in blocks of 8; returns the first channel left.</summary>
    private static unsafe int Channels256<TActivation>(in Pixel px, int c, TActivation activation)
        where TActivation : struct, IActivation
    {
        int channels = px.Channels;
        for (; c + 8 <= channels; c += 8)
        {
            var a = px.Bias == null ? Vector256<float>.Zero : Vector256.Load(px.Bias + c);
            for (int ky = px.Ky0; ky < px.Ky1; ky++)
            {
                for (int kx = px.Kx0; kx < px.Kx1; kx++)
                {
                    float* x = px.Src + ky * px.TapRowStride + kx * px.TapColumnStride + c;
                    float* w = px.Kernel + (nint)(ky * px.KernelWidth + kx) * channels + c;
                    a = Vector256.FusedMultiplyAdd(Vector256.Load(x), Vector256.Load(w), a);
                }
            }
            Vector256.Store(activation.Invoke(a), px.Dst + c);
        }
        return c;
    }

    private static unsafe void ScalarChannels<TActivation>(in Pixel px, int c, TActivation activation)
        where TActivation : struct, IActivation
    {
        int channels = px.Channels;
        for (; c < channels; c++)
        {
            float sum = px.Bias == null ? 0f : px.Bias[c];
            for (int ky = px.Ky0; ky < px.Ky1; ky++)
            {
                for (int kx = px.Kx0; kx < px.Kx1; kx++)
                {
                    float x = px.Src[ky * px.TapRowStride + kx * px.TapColumnStride + c];
                    sum = MathF.FusedMultiplyAdd(x, px.Kernel[(nint)(ky * px.KernelWidth + kx) * channels + c], sum);
                }
            }
            px.Dst[c] = activation.Invoke(sum);
        }
    }

    /// <summary>The general depth multiplier: output channel <c>c·m + q</c> reads input channel <c>c</c> and kernel <c>[.., c, q]</c>.</summary>
    private static unsafe void ScalarMultiplier<TActivation>(in Pixel px, int multiplier, TActivation activation)
        where TActivation : struct, IActivation
    {
        int channels = px.Channels;
        nint outChannels = (nint)channels * multiplier;
        for (int c = 0; c < channels; c++)
        {
            for (int q = 0; q < multiplier; q++)
            {
                nint o = (nint)c * multiplier + q;
                float sum = px.Bias == null ? 0f : px.Bias[o];
                for (int ky = px.Ky0; ky < px.Ky1; ky++)
                {
                    for (int kx = px.Kx0; kx < px.Kx1; kx++)
                    {
                        float x = px.Src[ky * px.TapRowStride + kx * px.TapColumnStride + c];
                        sum = MathF.FusedMultiplyAdd(x, px.Kernel[(ky * px.KernelWidth + kx) * outChannels + o], sum);
                    }
                }
                px.Dst[o] = activation.Invoke(sum);
            }
        }
    }

    private static void Validate(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                 ReadOnlySpan<float> output, in DepthwiseConv2DParams p, RowRange rows)
    {
        // The kernels index through raw pointers, so every extent is checked once here instead of on every load.
        if (p.KernelHeight < 1 || p.KernelWidth < 1 || p.StrideHeight < 1 || p.StrideWidth < 1 || p.DilationHeight < 1
            || p.DilationWidth < 1 || p.DepthMultiplier < 1)
            throw new ArgumentException($"Kernel size, strides, dilations and depth multiplier must be positive: {p}.", nameof(p));
        if (input.Length < (long)p.Batch * p.InputHeight * p.InputWidth * p.InputChannels)
            throw new ArgumentException($"Input has {input.Length} values, fewer than {p}.", nameof(input));
        if (kernel.Length < (long)p.KernelHeight * p.KernelWidth * p.OutputChannels)
            throw new ArgumentException($"Kernel has {kernel.Length} values, fewer than {p}.", nameof(kernel));
        if (!bias.IsEmpty && bias.Length < p.OutputChannels)
            throw new ArgumentException($"Bias has {bias.Length} values for {p.OutputChannels} output channels.", nameof(bias));
        if (output.Length < (long)p.Batch * p.OutputHeight * p.OutputWidth * p.OutputChannels)
            throw new ArgumentException($"Output has {output.Length} values, fewer than {p}.", nameof(output));
        if (rows.Start < 0 || rows.End > p.RowCount || rows.Count < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"Rows {rows} outside [0, {p.RowCount}).");
    }
}
