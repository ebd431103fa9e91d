using System.Runtime.CompilerServices;
using NativeCnn.Backends.Cpu.Simd;

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
/// independent sums. Interior pixels run in tiles of 8 along the row, each accumulator in a register, with 3- and
/// 5-tap rows at stride 1 and 2 unrolled so that every input vector is loaded once per kernel row; border pixels clip
/// their own tap range, so no inner loop tests bounds.
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
    /// <param name="width">The SIMD width (<see cref="SimdWidth.Auto"/>: <see cref="SimdDispatch.Best"/>); depth multipliers other than 1 run scalar.</param>
    public static void Nhwc<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                         Span<float> output, in DepthwiseConv2DParams p, TActivation activation, RowRange rows,
                                         SimdWidth width = SimdWidth.Auto)
        where TActivation : struct, IActivation
    {
        Validate(input, kernel, bias, output, p, rows);
        if (p.DepthMultiplier != 1)
        {
            RunScalar(input, kernel, bias, output, p, activation, rows);
            return;
        }
        if (IsCheap<TActivation>())
        {
            var body = new VectorKernel<TActivation>
            {
                Input = input, Kernel = kernel, Bias = bias, Output = output, Params = p, Activation = activation, Rows = rows,
            };
            SimdDispatch.Run(width, ref body);
            return;
        }
        // A transcendental epilogue (swish, sigmoid, tanh, elu, ...) inlined into the 4- and 8-accumulator blocks exceeds
        // the JIT's inlining budget: its Invoke became a call per vector, and depthwise + swish ran at 6-16 GFLOP/s where
        // the same kernel with no epilogue runs at 61 (3x3 on 112x112x32, AVX-512, 1 thread; OpBenchmarks measured
        // 0.15-0.33 of commit 6c3c549). So the blocks store raw sums, and each group of output rows is activated while
        // still in L1/L2 by the element-wise kernel; the activation of each sum is the same function, so the values are too.
        int rowLength = p.OutputWidth * p.OutputChannels;
        int group = Math.Max(1, 16384 / Math.Max(1, rowLength));
        for (int start = rows.Start; start < rows.End; start += group)
        {
            int end = Math.Min(rows.End, start + group);
            var body = new VectorKernel<IdentityActivation>
            {
                Input = input, Kernel = kernel, Bias = bias, Output = output, Params = p, Activation = default, Rows = new RowRange(start, end),
            };
            SimdDispatch.Run(width, ref body);
            var written = output.Slice(start * rowLength, (end - start) * rowLength);
            ElementwiseKernels.Apply(written, written, activation, width);
        }
    }

    /// <summary>Activations cheap enough (a compare or two) to inline into every block's stores.</summary>
    private static bool IsCheap<TActivation>() where TActivation : struct, IActivation =>
        typeof(TActivation) == typeof(IdentityActivation) || typeof(TActivation) == typeof(ReluActivation)
        || typeof(TActivation) == typeof(BoundedReluActivation) || typeof(TActivation) == typeof(LeakyReluActivation);

    private ref struct VectorKernel<TActivation> : ISimdKernel where TActivation : struct, IActivation
    {
        public ReadOnlySpan<float> Input, Kernel, Bias;
        public Span<float> Output;
        public DepthwiseConv2DParams Params;
        public TActivation Activation;
        public RowRange Rows;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => RunVectors<TLanes, TVector, TActivation>(Input, Kernel, Bias, Output, Params, Activation, Rows);
    }

    private static unsafe void RunScalar<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                      Span<float> output, in DepthwiseConv2DParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
    {
        int channels = p.InputChannels, outChannels = p.OutputChannels;
        fixed (float* inputPtr = input, kernelPtr = kernel, biasPtr = bias, outputPtr = output)
        {
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
                    Bias = bias.IsEmpty ? null : biasPtr,
                    Channels = channels,
                    KernelWidth = p.KernelWidth,
                    TapRowStride = (nint)p.DilationHeight * p.InputWidth * channels,
                    TapColumnStride = (nint)p.DilationWidth * channels,
                    Ky0 = ky0, Ky1 = ky1,
                };
                for (int ox = 0; ox < p.OutputWidth; ox++)
                {
                    int ix = ox * p.StrideWidth;
                    Conv2DKernels.ValidTaps(ix - p.PadLeft, p.KernelWidth, p.DilationWidth, p.InputWidth, out pixel.Kx0, out pixel.Kx1);
                    pixel.Src = srcRow + (nint)ix * channels;
                    pixel.Dst = dstRow + (nint)ox * outChannels;
                    if (p.DepthMultiplier != 1) ScalarMultiplier(pixel, p.DepthMultiplier, activation);
                    else ScalarChannels(pixel, 0, activation);
                }
            }
        }
    }

    // The vector paths are marked AggressiveOptimization: their tier-0 code (static abstract calls not inlined) is
    // tens of times slower, and a model's first runs would otherwise spend most of their time in it.
    /// <summary>
    /// Depth multiplier 1 on <typeparamref name="TLanes"/>-wide channel vectors. Each output row splits into clipped border
    /// pixels and interior pixels, the interior in tiles of 8 and 4 pixels that load each kernel vector once for the whole tile
    /// (one kernel load per 8 or 4 FMAs); a last partial channel vector overlaps the one before it, or uses masked loads
    /// and stores when there are fewer channels than lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunVectors<TLanes, TVector, TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel,
                                                                       ReadOnlySpan<float> bias, Span<float> output,
                                                                       in DepthwiseConv2DParams p, TActivation activation, RowRange rows)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TActivation : struct, IActivation
    {
        int channels = p.InputChannels;
        Conv2DKernels.InteriorColumns(p.InputWidth, p.OutputWidth, p.KernelWidth, p.StrideWidth, p.DilationWidth, p.PadLeft,
                                      out int interiorStart, out int interiorEnd);
        fixed (float* inputPtr = input, kernelPtr = kernel, biasPtr = bias, outputPtr = output)
        {
            var w = new Window
            {
                Kernel = kernelPtr,
                Bias = bias.IsEmpty ? null : biasPtr,
                Channels = channels,
                KernelWidth = p.KernelWidth,
                TapRowStride = (nint)p.DilationHeight * p.InputWidth * channels,
                TapColumnStride = (nint)p.DilationWidth * channels,
                PixelStride = (nint)p.StrideWidth * channels,
                FullVectors = channels / TLanes.Count * TLanes.Count,
                InputWidth = p.InputWidth,
                PadLeft = p.PadLeft,
                StrideWidth = p.StrideWidth,
                DilationWidth = p.DilationWidth,
                Kx0 = 0,
                Kx1 = p.KernelWidth,
            };
            for (int row = rows.Start; row < rows.End; row++)
            {
                int n = row / p.OutputHeight, oy = row - n * p.OutputHeight;
                int iy = oy * p.StrideHeight - p.PadTop;
                Conv2DKernels.ValidTaps(iy, p.KernelHeight, p.DilationHeight, p.InputHeight, out w.Ky0, out w.Ky1);
                float* srcRow = inputPtr + (((nint)n * p.InputHeight + iy) * p.InputWidth - p.PadLeft) * channels;
                float* dstRow = outputPtr + (nint)row * p.OutputWidth * channels;
                Tiles<TLanes, TVector, TActivation, Clipped>(ref w, srcRow, dstRow, 0, interiorStart, activation);
                int ox = EightPixelTiles<TLanes, TVector, TActivation>(w, p, srcRow, dstRow, interiorStart, interiorEnd, activation);
                Tiles<TLanes, TVector, TActivation, Unclipped>(ref w, srcRow, dstRow, ox, interiorEnd, activation);
                Tiles<TLanes, TVector, TActivation, Clipped>(ref w, srcRow, dstRow, interiorEnd, p.OutputWidth, activation);
            }
        }
    }

    /// <summary>Interior pixels in tiles of 8 from <paramref name="ox"/>, unrolled for 3- and 5-wide rows at stride 1 or 2; returns the first pixel left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int EightPixelTiles<TLanes, TVector, TActivation>(in Window w, in DepthwiseConv2DParams p, float* srcRow,
                                                                            float* dstRow, int ox, int end, TActivation activation)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TActivation : struct, IActivation
    {
        int shape = p.DilationWidth != 1 || p.StrideWidth > 2 ? 0 : p.KernelWidth * 10 + p.StrideWidth;
        for (; ox + 8 <= end; ox += 8)
        {
            float* src = srcRow + ox * w.PixelStride, dst = dstRow + (nint)ox * w.Channels;
            switch (shape)
            {
                case 31: Pixels<TLanes, TVector, TActivation, Eight, Three, One, Unclipped>(w, src, dst, activation); break;
                case 32: Pixels<TLanes, TVector, TActivation, Eight, Three, Two, Unclipped>(w, src, dst, activation); break;
                case 51: Pixels<TLanes, TVector, TActivation, Eight, Five, One, Unclipped>(w, src, dst, activation); break;
                case 52: Pixels<TLanes, TVector, TActivation, Eight, Five, Two, Unclipped>(w, src, dst, activation); break;
                default: Pixels<TLanes, TVector, TActivation, Eight, AnyCount, AnyCount, Unclipped>(w, src, dst, activation); break;
            }
        }
        return ox;
    }

    /// <summary>
    /// Pixels <c>[ox, end)</c> of a row in tiles of up to 8, the last one smaller, with the tap loop. Clipped tiles are
    /// the border: each pixel skips the taps of its own that fall outside the input, so the border too loads each kernel
    /// vector once per tile instead of once per pixel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tiles<TLanes, TVector, TActivation, TClip>(ref Window w, float* srcRow, float* dstRow, int ox, int end,
                                                                         TActivation activation)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TActivation : struct, IActivation
        where TClip : struct, IClipChoice
    {
        for (; ox < end; ox += 8)
        {
            float* src = srcRow + ox * w.PixelStride, dst = dstRow + (nint)ox * w.Channels;
            w.Column0 = ox * w.StrideWidth - w.PadLeft;
            switch (Math.Min(8, end - ox))
            {
                case 1:
                    // One pixel clips its tap range itself and runs the four-vector path.
                    if (TClip.IsClipped) Conv2DKernels.ValidTaps(w.Column0, w.KernelWidth, w.DilationWidth, w.InputWidth, out w.Kx0, out w.Kx1);
                    Pixels<TLanes, TVector, TActivation, One, AnyCount, AnyCount, Unclipped>(w, src, dst, activation);
                    w.Kx0 = 0;
                    w.Kx1 = w.KernelWidth;
                    break;
                case 2: Pixels<TLanes, TVector, TActivation, Two, AnyCount, AnyCount, TClip>(w, src, dst, activation); break;
                case 3: Pixels<TLanes, TVector, TActivation, Three, AnyCount, AnyCount, TClip>(w, src, dst, activation); break;
                case 4: Pixels<TLanes, TVector, TActivation, Four, AnyCount, AnyCount, TClip>(w, src, dst, activation); break;
                case 5: Pixels<TLanes, TVector, TActivation, Five, AnyCount, AnyCount, TClip>(w, src, dst, activation); break;
                case 6: Pixels<TLanes, TVector, TActivation, Six, AnyCount, AnyCount, TClip>(w, src, dst, activation); break;
                case 7: Pixels<TLanes, TVector, TActivation, Seven, AnyCount, AnyCount, TClip>(w, src, dst, activation); break;
                default: Pixels<TLanes, TVector, TActivation, Eight, AnyCount, AnyCount, TClip>(w, src, dst, activation); break;
            }
        }
    }

    /// <summary><typeparamref name="TPixels"/> neighbouring output pixels of one row, every channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Pixels<TLanes, TVector, TActivation, TPixels, TTaps, TStride, TClip>(in Window w, float* src, float* dst,
                                                                                                    TActivation activation)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TActivation : struct, IActivation
        where TPixels : struct, ICount
        where TTaps : struct, ICount
        where TStride : struct, ICount
        where TClip : struct, IClipChoice
    {
        int c = 0;
        // One pixel has a single FMA chain per channel vector; four vectors at a time keep four chains in flight.
        if (TPixels.Count == 1) c = FourVectorRuns<TLanes, TVector, TActivation>(w, src, dst, activation);
        // Up to 4 pixels have too few FMA chains for one vector at a time; two vectors give them 4 to 8.
        if (TPixels.Count is > 1 and <= 4) c = PairBlockRuns<TLanes, TVector, TActivation, TPixels, TClip>(w, src, dst, activation);
        if (c < w.FullVectors) c = BlockRuns<TLanes, TVector, TActivation, TPixels, TTaps, TStride, TClip>(w, src, dst, c, activation);
        if (c != w.Channels) ChannelTail<TLanes, TVector, TActivation, TPixels, TTaps, TStride, TClip>(w, src, dst, c, activation);
    }

    // Each channel loop of Pixels is a method of its own, so that each gets the JIT's whole inlining budget: with the
    // three loops inlined into Pixels, the 8-pixel 3x3 blocks with ReLU6 were left calling Lanes512.Select,
    // GreaterThan and Store for every stored vector (DOTNET_JitDisasm of MobileNetV2's depthwise convolutions).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe int FourVectorRuns<TLanes, TVector, TActivation>(in Window w, float* src, float* dst, TActivation activation)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation
    {
        int c = 0;
        for (; c + 4 * TLanes.Count <= w.FullVectors; c += 4 * TLanes.Count)
            FourVectors<TLanes, TVector, TActivation>(w, src + c, dst + c, c, activation);
        return c;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe int PairBlockRuns<TLanes, TVector, TActivation, TPixels, TClip>(in Window w, float* src, float* dst, TActivation activation)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation
        where TPixels : struct, ICount where TClip : struct, IClipChoice
    {
        int c = 0;
        for (; c + 2 * TLanes.Count <= w.FullVectors; c += 2 * TLanes.Count)
            PairBlock<TLanes, TVector, TActivation, TPixels, TClip>(w, src + c, dst + c, c, activation);
        return c;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe int BlockRuns<TLanes, TVector, TActivation, TPixels, TTaps, TStride, TClip>(in Window w, float* src, float* dst,
                                                                                                      int c, TActivation activation)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation
        where TPixels : struct, ICount where TTaps : struct, ICount where TStride : struct, ICount where TClip : struct, IClipChoice
    {
        for (; c < w.FullVectors; c += TLanes.Count)
            Block<TLanes, TVector, TActivation, TPixels, TTaps, TStride, Unmasked, TClip>(w, src + c, dst + c, c, default, activation);
        return c;
    }

    // The channel tail is a call of its own: inlined into Pixels it exhausted the JIT's inlining budget, and the
    // main loop was left calling Store, Block and even ICount.Count (40 channels ran 1.2-1.35× slower).
    /// <summary>The channels from <paramref name="c"/>, fewer than a vector, of the pixels of <see cref="Pixels"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ChannelTail<TLanes, TVector, TActivation, TPixels, TTaps, TStride, TClip>(in Window w, float* src, float* dst,
                                                                                                         int c, TActivation activation)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TActivation : struct, IActivation
        where TPixels : struct, ICount
        where TTaps : struct, ICount
        where TStride : struct, ICount
        where TClip : struct, IClipChoice
    {
        if (w.Channels >= TLanes.Count)
        {
            // The last vector overlaps the one before it (40 channels: 0, 16 and 24) instead of masking its loads: the
            // overlapped channels are recomputed with the same taps in the same order, so they are written twice with
            // the same value, and the masked block cost as much as two full ones.
            c = w.Channels - TLanes.Count;
            Block<TLanes, TVector, TActivation, TPixels, TTaps, TStride, Unmasked, TClip>(w, src + c, dst + c, c, default, activation);
        }
        else MaskedChannels<TLanes, TVector, TActivation, TPixels, TTaps, TStride, TClip>(w, src, dst, c, activation);
    }

    /// <summary>Fewer channels than a vector: one masked vector, or scalar code where masking is not supported.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MaskedChannels<TLanes, TVector, TActivation, TPixels, TTaps, TStride, TClip>(in Window w, float* src, float* dst,
                                                                                                            int c, TActivation activation)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TActivation : struct, IActivation
        where TPixels : struct, ICount
        where TTaps : struct, ICount
        where TStride : struct, ICount
        where TClip : struct, IClipChoice
    {
        if (TLanes.CanMask)
        {
            Block<TLanes, TVector, TActivation, TPixels, TTaps, TStride, Masked, TClip>(w, src + c, dst + c, c, w.Channels - c, activation);
            return;
        }
        for (int i = 0; i < TPixels.Count; i++)
        {
            var pixel = new Pixel
            {
                Src = src + i * w.PixelStride, Dst = dst + (nint)i * w.Channels, Kernel = w.Kernel, Bias = w.Bias,
                Channels = w.Channels, KernelWidth = w.KernelWidth, TapRowStride = w.TapRowStride,
                TapColumnStride = w.TapColumnStride, Ky0 = w.Ky0, Ky1 = w.Ky1, Kx0 = w.Kx0, Kx1 = w.Kx1,
            };
            if (TClip.IsClipped)
                Conv2DKernels.ValidTaps(w.Column0 + i * w.StrideWidth, w.KernelWidth, w.DilationWidth, w.InputWidth, out pixel.Kx0, out pixel.Kx1);
            ScalarChannels(pixel, c, activation);
        }
    }

    /// <summary>One pixel, four channel vectors from channel <paramref name="c"/>, over the taps <c>Kx0..Kx1</c> × <c>Ky0..Ky1</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void FourVectors<TLanes, TVector, TActivation>(in Window w, float* src, float* dst, int c, TActivation activation)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TActivation : struct, IActivation
    {
        nint tapColumn = w.TapColumnStride, channels = w.Channels, l = TLanes.Count;
        int kx0 = w.Kx0, kx1 = w.Kx1;
        TVector a0 = TLanes.Zero, a1 = TLanes.Zero, a2 = TLanes.Zero, a3 = TLanes.Zero;
        if (w.Bias != null)
        {
            a0 = TLanes.Load(w.Bias + c);
            a1 = TLanes.Load(w.Bias + c + l);
            a2 = TLanes.Load(w.Bias + c + 2 * l);
            a3 = TLanes.Load(w.Bias + c + 3 * l);
        }
        for (int ky = w.Ky0; ky < w.Ky1; ky++)
        {
            float* x = src + ky * w.TapRowStride + kx0 * tapColumn;
            float* k = w.Kernel + (nint)(ky * w.KernelWidth + kx0) * channels + c;
            for (int kx = kx0; kx < kx1; kx++, x += tapColumn, k += channels)
            {
                a0 = TLanes.MultiplyAdd(TLanes.Load(x), TLanes.Load(k), a0);
                a1 = TLanes.MultiplyAdd(TLanes.Load(x + l), TLanes.Load(k + l), a1);
                a2 = TLanes.MultiplyAdd(TLanes.Load(x + 2 * l), TLanes.Load(k + 2 * l), a2);
                a3 = TLanes.MultiplyAdd(TLanes.Load(x + 3 * l), TLanes.Load(k + 3 * l), a3);
            }
        }
        TLanes.Store(dst, activation.Invoke<TLanes, TVector>(a0));
        TLanes.Store(dst + l, activation.Invoke<TLanes, TVector>(a1));
        TLanes.Store(dst + 2 * l, activation.Invoke<TLanes, TVector>(a2));
        TLanes.Store(dst + 3 * l, activation.Invoke<TLanes, TVector>(a3));
    }

    /// <summary>
    /// One channel vector starting at channel <paramref name="c"/> of <typeparamref name="TPixels"/> pixels: each kernel vector
    /// is loaded once and multiplied into every pixel's accumulator, which stays in a register through all taps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Block<TLanes, TVector, TActivation, TPixels, TTaps, TStride, TMask, TClip>(in Window w, float* src, float* dst,
                                                                                                          int c, int tailCount, TActivation activation)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TActivation : struct, IActivation
        where TPixels : struct, ICount
        where TTaps : struct, ICount
        where TStride : struct, ICount
        where TMask : struct, IMaskChoice
        where TClip : struct, IClipChoice
    {
        nint ps = w.PixelStride, tapColumn = w.TapColumnStride, channels = w.Channels;
        uint inputWidth = (uint)w.InputWidth;
        int strideWidth = w.StrideWidth, dilationWidth = w.DilationWidth;
        int kx0 = w.Kx0, kx1 = w.Kx1;
        var b = w.Bias == null ? TLanes.Zero : Load<TLanes, TVector, TMask>(w.Bias + c, tailCount);
        TVector a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
        for (int ky = w.Ky0; ky < w.Ky1; ky++)
        {
            float* x = src + ky * w.TapRowStride + kx0 * tapColumn;
            float* k = w.Kernel + (nint)(ky * w.KernelWidth + kx0) * channels + c;
            if (TTaps.Count == 3 && TStride.Count == 1)
            {
                Taps3Stride1<TLanes, TVector, TMask>(x, k, channels, tailCount, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                continue;
            }
            if (TTaps.Count == 3 && TStride.Count == 2)
            {
                Taps3Stride2<TLanes, TVector, TMask>(x, k, channels, tailCount, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                continue;
            }
            if (TTaps.Count == 5 && TStride.Count == 1)
            {
                Taps5Stride1<TLanes, TVector, TMask>(x, k, channels, tailCount, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                continue;
            }
            if (TTaps.Count == 5 && TStride.Count == 2)
            {
                Taps5Stride2<TLanes, TVector, TMask>(x, k, channels, tailCount, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                continue;
            }
            for (int kx = kx0; kx < kx1; kx++, x += tapColumn, k += channels)
            {
                var kv = Load<TLanes, TVector, TMask>(k, tailCount);
                // Clipped: pixel i reads input column column + i·stride at this tap, and skips the tap when that is padding.
                int column = TClip.IsClipped ? w.Column0 + kx * dilationWidth : 0;
                if (!TClip.IsClipped || (uint)column < inputWidth)
                    a0 = TLanes.MultiplyAdd(Load<TLanes, TVector, TMask>(x, tailCount), kv, a0);
                if (TPixels.Count > 1 && (!TClip.IsClipped || (uint)(column + strideWidth) < inputWidth))
                    a1 = TLanes.MultiplyAdd(Load<TLanes, TVector, TMask>(x + ps, tailCount), kv, a1);
                if (TPixels.Count > 2 && (!TClip.IsClipped || (uint)(column + 2 * strideWidth) < inputWidth))
                    a2 = TLanes.MultiplyAdd(Load<TLanes, TVector, TMask>(x + 2 * ps, tailCount), kv, a2);
                if (TPixels.Count > 3 && (!TClip.IsClipped || (uint)(column + 3 * strideWidth) < inputWidth))
                    a3 = TLanes.MultiplyAdd(Load<TLanes, TVector, TMask>(x + 3 * ps, tailCount), kv, a3);
                if (TPixels.Count > 4 && (!TClip.IsClipped || (uint)(column + 4 * strideWidth) < inputWidth))
                    a4 = TLanes.MultiplyAdd(Load<TLanes, TVector, TMask>(x + 4 * ps, tailCount), kv, a4);
                if (TPixels.Count > 5 && (!TClip.IsClipped || (uint)(column + 5 * strideWidth) < inputWidth))
                    a5 = TLanes.MultiplyAdd(Load<TLanes, TVector, TMask>(x + 5 * ps, tailCount), kv, a5);
                if (TPixels.Count > 6 && (!TClip.IsClipped || (uint)(column + 6 * strideWidth) < inputWidth))
                    a6 = TLanes.MultiplyAdd(Load<TLanes, TVector, TMask>(x + 6 * ps, tailCount), kv, a6);
                if (TPixels.Count > 7 && (!TClip.IsClipped || (uint)(column + 7 * strideWidth) < inputWidth))
                    a7 = TLanes.MultiplyAdd(Load<TLanes, TVector, TMask>(x + 7 * ps, tailCount), kv, a7);
            }
        }
        Store<TLanes, TVector, TActivation, TMask>(dst, tailCount, a0, activation);
        if (TPixels.Count > 1) Store<TLanes, TVector, TActivation, TMask>(dst + channels, tailCount, a1, activation);
        if (TPixels.Count > 2) Store<TLanes, TVector, TActivation, TMask>(dst + 2 * channels, tailCount, a2, activation);
        if (TPixels.Count > 3) Store<TLanes, TVector, TActivation, TMask>(dst + 3 * channels, tailCount, a3, activation);
        if (TPixels.Count > 4) Store<TLanes, TVector, TActivation, TMask>(dst + 4 * channels, tailCount, a4, activation);
        if (TPixels.Count > 5) Store<TLanes, TVector, TActivation, TMask>(dst + 5 * channels, tailCount, a5, activation);
        if (TPixels.Count > 6) Store<TLanes, TVector, TActivation, TMask>(dst + 6 * channels, tailCount, a6, activation);
        if (TPixels.Count > 7) Store<TLanes, TVector, TActivation, TMask>(dst + 7 * channels, tailCount, a7, activation);
    }

    /// <summary><see cref="Block"/> for tiles of 2 to 4 pixels on two channel vectors from <paramref name="c"/>: a0..a3 are the pixels of the first vector, a4..a7 of the second.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PairBlock<TLanes, TVector, TActivation, TPixels, TClip>(in Window w, float* src, float* dst, int c, TActivation activation)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TActivation : struct, IActivation
        where TPixels : struct, ICount
        where TClip : struct, IClipChoice
    {
        nint ps = w.PixelStride, tapColumn = w.TapColumnStride, channels = w.Channels, l = TLanes.Count;
        uint inputWidth = (uint)w.InputWidth;
        int strideWidth = w.StrideWidth, dilationWidth = w.DilationWidth;
        int kx0 = w.Kx0, kx1 = w.Kx1;
        TVector a0 = TLanes.Zero, a4 = TLanes.Zero;
        if (w.Bias != null)
        {
            a0 = TLanes.Load(w.Bias + c);
            a4 = TLanes.Load(w.Bias + c + l);
        }
        TVector a1 = a0, a2 = a0, a3 = a0, a5 = a4, a6 = a4, a7 = a4;
        for (int ky = w.Ky0; ky < w.Ky1; ky++)
        {
            float* x = src + ky * w.TapRowStride + kx0 * tapColumn;
            float* k = w.Kernel + (nint)(ky * w.KernelWidth + kx0) * channels + c;
            for (int kx = kx0; kx < kx1; kx++, x += tapColumn, k += channels)
            {
                var kv = TLanes.Load(k);
                var kv2 = TLanes.Load(k + l);
                int col = TClip.IsClipped ? w.Column0 + kx * dilationWidth : 0;
                if (!TClip.IsClipped || (uint)col < inputWidth)
                {
                    a0 = TLanes.MultiplyAdd(TLanes.Load(x), kv, a0);
                    a4 = TLanes.MultiplyAdd(TLanes.Load(x + l), kv2, a4);
                }
                if (TPixels.Count > 1 && (!TClip.IsClipped || (uint)(col + strideWidth) < inputWidth))
                {
                    a1 = TLanes.MultiplyAdd(TLanes.Load(x + ps), kv, a1);
                    a5 = TLanes.MultiplyAdd(TLanes.Load(x + ps + l), kv2, a5);
                }
                if (TPixels.Count > 2 && (!TClip.IsClipped || (uint)(col + 2 * strideWidth) < inputWidth))
                {
                    a2 = TLanes.MultiplyAdd(TLanes.Load(x + 2 * ps), kv, a2);
                    a6 = TLanes.MultiplyAdd(TLanes.Load(x + 2 * ps + l), kv2, a6);
                }
                if (TPixels.Count > 3 && (!TClip.IsClipped || (uint)(col + 3 * strideWidth) < inputWidth))
                {
                    a3 = TLanes.MultiplyAdd(TLanes.Load(x + 3 * ps), kv, a3);
                    a7 = TLanes.MultiplyAdd(TLanes.Load(x + 3 * ps + l), kv2, a7);
                }
            }
        }
        TLanes.Store(dst, activation.Invoke<TLanes, TVector>(a0));
        TLanes.Store(dst + l, activation.Invoke<TLanes, TVector>(a4));
        if (TPixels.Count > 1)
        {
            TLanes.Store(dst + channels, activation.Invoke<TLanes, TVector>(a1));
            TLanes.Store(dst + channels + l, activation.Invoke<TLanes, TVector>(a5));
        }
        if (TPixels.Count > 2)
        {
            TLanes.Store(dst + 2 * channels, activation.Invoke<TLanes, TVector>(a2));
            TLanes.Store(dst + 2 * channels + l, activation.Invoke<TLanes, TVector>(a6));
        }
        if (TPixels.Count > 3)
        {
            TLanes.Store(dst + 3 * channels, activation.Invoke<TLanes, TVector>(a3));
            TLanes.Store(dst + 3 * channels + l, activation.Invoke<TLanes, TVector>(a7));
        }
    }

    /// <summary>Kernel row <c>k</c> of a 3-tap, stride-1 window applied to 8 pixels from input column <c>x</c>; each input vector is loaded once for every tap that reads it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Taps3Stride1<TLanes, TVector, TMask>(float* x, float* k, nint channels, int tailCount,
        ref TVector a0, ref TVector a1, ref TVector a2, ref TVector a3, ref TVector a4, ref TVector a5, ref TVector a6, ref TVector a7)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TMask : struct, IMaskChoice
    {
        TVector k0 = Load<TLanes, TVector, TMask>(k, tailCount), k1 = Load<TLanes, TVector, TMask>(k + channels, tailCount), k2 = Load<TLanes, TVector, TMask>(k + 2 * channels, tailCount);
        TVector x0 = Load<TLanes, TVector, TMask>(x, tailCount), x1 = Load<TLanes, TVector, TMask>(x + channels, tailCount), x2 = Load<TLanes, TVector, TMask>(x + 2 * channels, tailCount);
        TVector x3 = Load<TLanes, TVector, TMask>(x + 3 * channels, tailCount), x4 = Load<TLanes, TVector, TMask>(x + 4 * channels, tailCount), x5 = Load<TLanes, TVector, TMask>(x + 5 * channels, tailCount);
        TVector x6 = Load<TLanes, TVector, TMask>(x + 6 * channels, tailCount), x7 = Load<TLanes, TVector, TMask>(x + 7 * channels, tailCount), x8 = Load<TLanes, TVector, TMask>(x + 8 * channels, tailCount);
        TVector x9 = Load<TLanes, TVector, TMask>(x + 9 * channels, tailCount);
        a0 = TLanes.MultiplyAdd(x2, k2, TLanes.MultiplyAdd(x1, k1, TLanes.MultiplyAdd(x0, k0, a0)));
        a1 = TLanes.MultiplyAdd(x3, k2, TLanes.MultiplyAdd(x2, k1, TLanes.MultiplyAdd(x1, k0, a1)));
        a2 = TLanes.MultiplyAdd(x4, k2, TLanes.MultiplyAdd(x3, k1, TLanes.MultiplyAdd(x2, k0, a2)));
        a3 = TLanes.MultiplyAdd(x5, k2, TLanes.MultiplyAdd(x4, k1, TLanes.MultiplyAdd(x3, k0, a3)));
        a4 = TLanes.MultiplyAdd(x6, k2, TLanes.MultiplyAdd(x5, k1, TLanes.MultiplyAdd(x4, k0, a4)));
        a5 = TLanes.MultiplyAdd(x7, k2, TLanes.MultiplyAdd(x6, k1, TLanes.MultiplyAdd(x5, k0, a5)));
        a6 = TLanes.MultiplyAdd(x8, k2, TLanes.MultiplyAdd(x7, k1, TLanes.MultiplyAdd(x6, k0, a6)));
        a7 = TLanes.MultiplyAdd(x9, k2, TLanes.MultiplyAdd(x8, k1, TLanes.MultiplyAdd(x7, k0, a7)));
    }

    /// <summary>Kernel row <c>k</c> of a 3-tap, stride-2 window applied to 8 pixels from input column <c>x</c>; each input vector is loaded once for every tap that reads it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Taps3Stride2<TLanes, TVector, TMask>(float* x, float* k, nint channels, int tailCount,
        ref TVector a0, ref TVector a1, ref TVector a2, ref TVector a3, ref TVector a4, ref TVector a5, ref TVector a6, ref TVector a7)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TMask : struct, IMaskChoice
    {
        TVector k0 = Load<TLanes, TVector, TMask>(k, tailCount), k1 = Load<TLanes, TVector, TMask>(k + channels, tailCount), k2 = Load<TLanes, TVector, TMask>(k + 2 * channels, tailCount);
        TVector x0 = Load<TLanes, TVector, TMask>(x, tailCount), x1 = Load<TLanes, TVector, TMask>(x + channels, tailCount), x2 = Load<TLanes, TVector, TMask>(x + 2 * channels, tailCount);
        TVector x3 = Load<TLanes, TVector, TMask>(x + 3 * channels, tailCount), x4 = Load<TLanes, TVector, TMask>(x + 4 * channels, tailCount), x5 = Load<TLanes, TVector, TMask>(x + 5 * channels, tailCount);
        TVector x6 = Load<TLanes, TVector, TMask>(x + 6 * channels, tailCount), x7 = Load<TLanes, TVector, TMask>(x + 7 * channels, tailCount), x8 = Load<TLanes, TVector, TMask>(x + 8 * channels, tailCount);
        TVector x9 = Load<TLanes, TVector, TMask>(x + 9 * channels, tailCount), x10 = Load<TLanes, TVector, TMask>(x + 10 * channels, tailCount), x11 = Load<TLanes, TVector, TMask>(x + 11 * channels, tailCount);
        TVector x12 = Load<TLanes, TVector, TMask>(x + 12 * channels, tailCount), x13 = Load<TLanes, TVector, TMask>(x + 13 * channels, tailCount), x14 = Load<TLanes, TVector, TMask>(x + 14 * channels, tailCount);
        TVector x15 = Load<TLanes, TVector, TMask>(x + 15 * channels, tailCount), x16 = Load<TLanes, TVector, TMask>(x + 16 * channels, tailCount);
        a0 = TLanes.MultiplyAdd(x2, k2, TLanes.MultiplyAdd(x1, k1, TLanes.MultiplyAdd(x0, k0, a0)));
        a1 = TLanes.MultiplyAdd(x4, k2, TLanes.MultiplyAdd(x3, k1, TLanes.MultiplyAdd(x2, k0, a1)));
        a2 = TLanes.MultiplyAdd(x6, k2, TLanes.MultiplyAdd(x5, k1, TLanes.MultiplyAdd(x4, k0, a2)));
        a3 = TLanes.MultiplyAdd(x8, k2, TLanes.MultiplyAdd(x7, k1, TLanes.MultiplyAdd(x6, k0, a3)));
        a4 = TLanes.MultiplyAdd(x10, k2, TLanes.MultiplyAdd(x9, k1, TLanes.MultiplyAdd(x8, k0, a4)));
        a5 = TLanes.MultiplyAdd(x12, k2, TLanes.MultiplyAdd(x11, k1, TLanes.MultiplyAdd(x10, k0, a5)));
        a6 = TLanes.MultiplyAdd(x14, k2, TLanes.MultiplyAdd(x13, k1, TLanes.MultiplyAdd(x12, k0, a6)));
        a7 = TLanes.MultiplyAdd(x16, k2, TLanes.MultiplyAdd(x15, k1, TLanes.MultiplyAdd(x14, k0, a7)));
    }

    /// <summary>Kernel row <c>k</c> of a 5-tap, stride-1 window applied to 8 pixels from input column <c>x</c>; each input vector is loaded once for every tap that reads it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Taps5Stride1<TLanes, TVector, TMask>(float* x, float* k, nint channels, int tailCount,
        ref TVector a0, ref TVector a1, ref TVector a2, ref TVector a3, ref TVector a4, ref TVector a5, ref TVector a6, ref TVector a7)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TMask : struct, IMaskChoice
    {
        TVector k0 = Load<TLanes, TVector, TMask>(k, tailCount), k1 = Load<TLanes, TVector, TMask>(k + channels, tailCount), k2 = Load<TLanes, TVector, TMask>(k + 2 * channels, tailCount);
        TVector k3 = Load<TLanes, TVector, TMask>(k + 3 * channels, tailCount), k4 = Load<TLanes, TVector, TMask>(k + 4 * channels, tailCount);
        TVector x0 = Load<TLanes, TVector, TMask>(x, tailCount), x1 = Load<TLanes, TVector, TMask>(x + channels, tailCount), x2 = Load<TLanes, TVector, TMask>(x + 2 * channels, tailCount);
        TVector x3 = Load<TLanes, TVector, TMask>(x + 3 * channels, tailCount), x4 = Load<TLanes, TVector, TMask>(x + 4 * channels, tailCount), x5 = Load<TLanes, TVector, TMask>(x + 5 * channels, tailCount);
        TVector x6 = Load<TLanes, TVector, TMask>(x + 6 * channels, tailCount), x7 = Load<TLanes, TVector, TMask>(x + 7 * channels, tailCount), x8 = Load<TLanes, TVector, TMask>(x + 8 * channels, tailCount);
        TVector x9 = Load<TLanes, TVector, TMask>(x + 9 * channels, tailCount), x10 = Load<TLanes, TVector, TMask>(x + 10 * channels, tailCount), x11 = Load<TLanes, TVector, TMask>(x + 11 * channels, tailCount);
        a0 = TLanes.MultiplyAdd(x4, k4, TLanes.MultiplyAdd(x3, k3, TLanes.MultiplyAdd(x2, k2, TLanes.MultiplyAdd(x1, k1, TLanes.MultiplyAdd(x0, k0, a0)))));
        a1 = TLanes.MultiplyAdd(x5, k4, TLanes.MultiplyAdd(x4, k3, TLanes.MultiplyAdd(x3, k2, TLanes.MultiplyAdd(x2, k1, TLanes.MultiplyAdd(x1, k0, a1)))));
        a2 = TLanes.MultiplyAdd(x6, k4, TLanes.MultiplyAdd(x5, k3, TLanes.MultiplyAdd(x4, k2, TLanes.MultiplyAdd(x3, k1, TLanes.MultiplyAdd(x2, k0, a2)))));
        a3 = TLanes.MultiplyAdd(x7, k4, TLanes.MultiplyAdd(x6, k3, TLanes.MultiplyAdd(x5, k2, TLanes.MultiplyAdd(x4, k1, TLanes.MultiplyAdd(x3, k0, a3)))));
        a4 = TLanes.MultiplyAdd(x8, k4, TLanes.MultiplyAdd(x7, k3, TLanes.MultiplyAdd(x6, k2, TLanes.MultiplyAdd(x5, k1, TLanes.MultiplyAdd(x4, k0, a4)))));
        a5 = TLanes.MultiplyAdd(x9, k4, TLanes.MultiplyAdd(x8, k3, TLanes.MultiplyAdd(x7, k2, TLanes.MultiplyAdd(x6, k1, TLanes.MultiplyAdd(x5, k0, a5)))));
        a6 = TLanes.MultiplyAdd(x10, k4, TLanes.MultiplyAdd(x9, k3, TLanes.MultiplyAdd(x8, k2, TLanes.MultiplyAdd(x7, k1, TLanes.MultiplyAdd(x6, k0, a6)))));
        a7 = TLanes.MultiplyAdd(x11, k4, TLanes.MultiplyAdd(x10, k3, TLanes.MultiplyAdd(x9, k2, TLanes.MultiplyAdd(x8, k1, TLanes.MultiplyAdd(x7, k0, a7)))));
    }

    /// <summary>Kernel row <c>k</c> of a 5-tap, stride-2 window applied to 8 pixels from input column <c>x</c>; each input vector is loaded once for every tap that reads it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Taps5Stride2<TLanes, TVector, TMask>(float* x, float* k, nint channels, int tailCount,
        ref TVector a0, ref TVector a1, ref TVector a2, ref TVector a3, ref TVector a4, ref TVector a5, ref TVector a6, ref TVector a7)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TMask : struct, IMaskChoice
    {
        TVector k0 = Load<TLanes, TVector, TMask>(k, tailCount), k1 = Load<TLanes, TVector, TMask>(k + channels, tailCount), k2 = Load<TLanes, TVector, TMask>(k + 2 * channels, tailCount);
        TVector k3 = Load<TLanes, TVector, TMask>(k + 3 * channels, tailCount), k4 = Load<TLanes, TVector, TMask>(k + 4 * channels, tailCount);
        TVector x0 = Load<TLanes, TVector, TMask>(x, tailCount), x1 = Load<TLanes, TVector, TMask>(x + channels, tailCount), x2 = Load<TLanes, TVector, TMask>(x + 2 * channels, tailCount);
        TVector x3 = Load<TLanes, TVector, TMask>(x + 3 * channels, tailCount), x4 = Load<TLanes, TVector, TMask>(x + 4 * channels, tailCount), x5 = Load<TLanes, TVector, TMask>(x + 5 * channels, tailCount);
        TVector x6 = Load<TLanes, TVector, TMask>(x + 6 * channels, tailCount), x7 = Load<TLanes, TVector, TMask>(x + 7 * channels, tailCount), x8 = Load<TLanes, TVector, TMask>(x + 8 * channels, tailCount);
        TVector x9 = Load<TLanes, TVector, TMask>(x + 9 * channels, tailCount), x10 = Load<TLanes, TVector, TMask>(x + 10 * channels, tailCount), x11 = Load<TLanes, TVector, TMask>(x + 11 * channels, tailCount);
        TVector x12 = Load<TLanes, TVector, TMask>(x + 12 * channels, tailCount), x13 = Load<TLanes, TVector, TMask>(x + 13 * channels, tailCount), x14 = Load<TLanes, TVector, TMask>(x + 14 * channels, tailCount);
        TVector x15 = Load<TLanes, TVector, TMask>(x + 15 * channels, tailCount), x16 = Load<TLanes, TVector, TMask>(x + 16 * channels, tailCount), x17 = Load<TLanes, TVector, TMask>(x + 17 * channels, tailCount);
        TVector x18 = Load<TLanes, TVector, TMask>(x + 18 * channels, tailCount);
        a0 = TLanes.MultiplyAdd(x4, k4, TLanes.MultiplyAdd(x3, k3, TLanes.MultiplyAdd(x2, k2, TLanes.MultiplyAdd(x1, k1, TLanes.MultiplyAdd(x0, k0, a0)))));
        a1 = TLanes.MultiplyAdd(x6, k4, TLanes.MultiplyAdd(x5, k3, TLanes.MultiplyAdd(x4, k2, TLanes.MultiplyAdd(x3, k1, TLanes.MultiplyAdd(x2, k0, a1)))));
        a2 = TLanes.MultiplyAdd(x8, k4, TLanes.MultiplyAdd(x7, k3, TLanes.MultiplyAdd(x6, k2, TLanes.MultiplyAdd(x5, k1, TLanes.MultiplyAdd(x4, k0, a2)))));
        a3 = TLanes.MultiplyAdd(x10, k4, TLanes.MultiplyAdd(x9, k3, TLanes.MultiplyAdd(x8, k2, TLanes.MultiplyAdd(x7, k1, TLanes.MultiplyAdd(x6, k0, a3)))));
        a4 = TLanes.MultiplyAdd(x12, k4, TLanes.MultiplyAdd(x11, k3, TLanes.MultiplyAdd(x10, k2, TLanes.MultiplyAdd(x9, k1, TLanes.MultiplyAdd(x8, k0, a4)))));
        a5 = TLanes.MultiplyAdd(x14, k4, TLanes.MultiplyAdd(x13, k3, TLanes.MultiplyAdd(x12, k2, TLanes.MultiplyAdd(x11, k1, TLanes.MultiplyAdd(x10, k0, a5)))));
        a6 = TLanes.MultiplyAdd(x16, k4, TLanes.MultiplyAdd(x15, k3, TLanes.MultiplyAdd(x14, k2, TLanes.MultiplyAdd(x13, k1, TLanes.MultiplyAdd(x12, k0, a6)))));
        a7 = TLanes.MultiplyAdd(x18, k4, TLanes.MultiplyAdd(x17, k3, TLanes.MultiplyAdd(x16, k2, TLanes.MultiplyAdd(x15, k1, TLanes.MultiplyAdd(x14, k0, a7)))));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe TVector Load<TLanes, TVector, TMask>(float* address, int tailCount)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TMask : struct, IMaskChoice
        => TMask.IsMasked ? TLanes.LoadFirst(address, tailCount) : TLanes.Load(address);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store<TLanes, TVector, TActivation, TMask>(float* address, int tailCount, TVector sum, TActivation activation)
        where TLanes : struct, ILanes<TVector>
        where TVector : unmanaged
        where TActivation : struct, IActivation
        where TMask : struct, IMaskChoice
    {
        if (TMask.IsMasked) TLanes.StoreFirst(address, activation.Invoke<TLanes, TVector>(sum), tailCount);
        else TLanes.Store(address, activation.Invoke<TLanes, TVector>(sum));
    }

    /// <summary>Row geometry shared by every pixel of a row; <c>Kx0</c>/<c>Kx1</c> clip border pixels.</summary>
    private unsafe struct Window
    {
        public float* Kernel;
        public float* Bias;
        public int Channels;
        public int FullVectors;
        public int KernelWidth;
        public nint TapRowStride;
        public nint TapColumnStride;
        public nint PixelStride;
        public int InputWidth, PadLeft, StrideWidth, DilationWidth;
        /// <summary>The input column of tap 0 of the tile's first pixel (negative in the left padding).</summary>
        public int Column0;
        public int Ky0, Ky1, Kx0, Kx1;
    }

    /// <summary>A small constant (pixels per tile, taps, stride) as a type, so that the JIT drops unused accumulators and branches.</summary>
    private interface ICount
    {
        static abstract int Count { get; }
    }

    /// <summary>Not specialized: the taps are a runtime loop.</summary>
    private readonly struct AnyCount : ICount { public static int Count => 0; }

    private readonly struct One : ICount { public static int Count => 1; }
    private readonly struct Two : ICount { public static int Count => 2; }
    private readonly struct Three : ICount { public static int Count => 3; }
    private readonly struct Four : ICount { public static int Count => 4; }
    private readonly struct Five : ICount { public static int Count => 5; }
    private readonly struct Six : ICount { public static int Count => 6; }
    private readonly struct Seven : ICount { public static int Count => 7; }
    private readonly struct Eight : ICount { public static int Count => 8; }

    /// <summary>Whether the pixels of a tile clip their own taps (border tiles), as a type so that interior tiles test nothing.</summary>
    private interface IClipChoice
    {
        static abstract bool IsClipped { get; }
    }

    private readonly struct Clipped : IClipChoice { public static bool IsClipped => true; }
    private readonly struct Unclipped : IClipChoice { public static bool IsClipped => false; }

    /// <summary>Whether a block is the masked channel tail, as a type so that full blocks compile to plain loads.</summary>
    private interface IMaskChoice
    {
        static abstract bool IsMasked { get; }
    }

    private readonly struct Masked : IMaskChoice { public static bool IsMasked => true; }
    private readonly struct Unmasked : IMaskChoice { public static bool IsMasked => false; }

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
        public int Ky0, Ky1, Kx0, Kx1;
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
            px.Dst[c] = activation.Invoke<LanesScalar, float>(sum);
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
                px.Dst[o] = activation.Invoke<LanesScalar, float>(sum);
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
        WindowChecks.Axis("height", p.InputHeight, p.OutputHeight, p.KernelHeight, p.StrideHeight, p.DilationHeight, p.PadTop, p);
        WindowChecks.Axis("width", p.InputWidth, p.OutputWidth, p.KernelWidth, p.StrideWidth, p.DilationWidth, p.PadLeft, p);
        WindowChecks.Rows(p.Batch, p.OutputHeight, p);
        WindowChecks.Channels(p.InputChannels, p.DepthMultiplier, p);
        if (input.Length < WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.InputChannels))
            throw new ArgumentException($"Input has {input.Length} values, fewer than {p}.", nameof(input));
        if (kernel.Length < WindowChecks.Count(p.KernelHeight, p.KernelWidth, p.OutputChannels))
            throw new ArgumentException($"Kernel has {kernel.Length} values, fewer than {p}.", nameof(kernel));
        if (!bias.IsEmpty && bias.Length < p.OutputChannels)
            throw new ArgumentException($"Bias has {bias.Length} values for {p.OutputChannels} output channels.", nameof(bias));
        if (output.Length < WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.OutputChannels))
            throw new ArgumentException($"Output has {output.Length} values, fewer than {p}.", nameof(output));
        if (rows.Start < 0 || rows.End > p.RowCount || rows.Count < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"Rows {rows} outside [0, {p.RowCount}).");
        // Windows read neighbouring pixels, and a last channel vector overlapping its predecessor rereads its inputs.
        if (input.Overlaps(output)) throw new ArgumentException("The output overlaps the input.", nameof(output));
    }
}
