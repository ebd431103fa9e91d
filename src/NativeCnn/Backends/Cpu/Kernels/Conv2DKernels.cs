using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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

/// <summary>
/// NHWC 2-D convolution kernels over spans. Each output pixel is an outer product of its input window with the HWIO
/// kernel: the kernels hold a tile of 4 to 6 output pixels × two vectors of output channels in
/// registers and, for every tap and input channel, broadcast one input value per pixel against one kernel row
/// (a register-blocked direct convolution, as in oneDNN's "direct" NHWC kernels). Pixels whose window touches the
/// padding are computed one at a time with their own clipped tap range, so the inner loops never test bounds.
/// </summary>
public static class Conv2DKernels
{
    /// <summary>Output pixels per register tile of the 8-lane and scalar paths (the 16-lane path, with 32 registers, takes 6).</summary>
    internal const int TilePixels = 4;

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
    {
        if (Vector512.IsHardwareAccelerated) NhwcVector512(input, kernel, bias, output, p, activation, rows);
        else if (Vector256.IsHardwareAccelerated) NhwcVector256(input, kernel, bias, output, p, activation, rows);
        else NhwcScalar(input, kernel, bias, output, p, activation, rows);
    }

    /// <summary><see cref="Nhwc"/> with 16-lane tiles (32 output channels per tile), then 16-, 8-lane and scalar tails.</summary>
    internal static void NhwcVector512<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                    Span<float> output, in Conv2DParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
        => Run(input, kernel, bias, output, p, rows, new Tiles512<TActivation>(activation));

    /// <summary><see cref="Nhwc"/> with 8-lane tiles (16 output channels per tile), then an 8-lane and a scalar tail.</summary>
    internal static void NhwcVector256<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                    Span<float> output, in Conv2DParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
        => Run(input, kernel, bias, output, p, rows, new Tiles256<TActivation>(activation));

    /// <summary><see cref="Nhwc"/> in scalar code, for machines without 256-bit vectors.</summary>
    internal static void NhwcScalar<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                 Span<float> output, in Conv2DParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
        => Run(input, kernel, bias, output, p, rows, new TilesScalar<TActivation>(activation));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Run<TTiles>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                           Span<float> output, in Conv2DParams p, RowRange rows, TTiles tiles)
        where TTiles : struct, ITiles
    {
        Validate(input, kernel, bias, output, p, rows);
        if (rows.Count == 0) return;
        int channels = p.InputChannels, filters = p.OutputChannels;
        fixed (float* inputPtr = input, kernelPtr = kernel, biasPtr = bias, outputPtr = output)
        {
            var g = new Geometry
            {
                Kernel = kernelPtr,
                Bias = bias.IsEmpty ? null : biasPtr,
                Channels = channels,
                Filters = filters,
                KernelWidth = p.KernelWidth,
                TapRowStride = (nint)p.DilationHeight * p.InputWidth * channels,
                TapColumnStride = (nint)p.DilationWidth * channels,
                PixelStride = (nint)p.StrideWidth * channels,
            };

            if (IsPointwise(p))
            {
                // 1x1, stride 1, unpadded: input and output pixels correspond one to one across row boundaries, so the
                // whole row range is a single GEMM (pixels × channels) · (channels × filters) with no partial tiles per row.
                nint first = (nint)rows.Start * p.OutputWidth, count = (nint)rows.Count * p.OutputWidth;
                float* src = inputPtr + first * channels, dst = outputPtr + first * filters;
                nint i = 0;
                for (; i + TTiles.Pixels <= count; i += TTiles.Pixels)
                    tiles.Tile(g, src + i * channels, dst + i * filters, 0, 1, 0, 1);
                for (; i < count; i++)
                    tiles.Pixel(g, src + i * channels, dst + i * filters, 0, 1, 0, 1);
                return;
            }

            InteriorColumns(p.InputWidth, p.OutputWidth, p.KernelWidth, p.StrideWidth, p.DilationWidth, p.PadLeft,
                            out int interiorStart, out int interiorEnd);

            for (int row = rows.Start; row < rows.End; row++)
            {
                int n = row / p.OutputHeight, oy = row - n * p.OutputHeight;
                int iy = oy * p.StrideHeight - p.PadTop;
                ValidTaps(iy, p.KernelHeight, p.DilationHeight, p.InputHeight, out int ky0, out int ky1);
                float* srcRow = inputPtr + (((nint)n * p.InputHeight + iy) * p.InputWidth - p.PadLeft) * channels;
                float* dstRow = outputPtr + (nint)row * p.OutputWidth * filters;

                int ox = 0;
                for (; ox < interiorStart; ox++) BorderPixel(tiles, g, p, srcRow, dstRow, ox, ky0, ky1);
                for (; ox + TTiles.Pixels <= interiorEnd; ox += TTiles.Pixels)
                    tiles.Tile(g, srcRow + ox * g.PixelStride, dstRow + (nint)ox * filters, ky0, ky1, 0, p.KernelWidth);
                for (; ox < interiorEnd; ox++)
                    tiles.Pixel(g, srcRow + ox * g.PixelStride, dstRow + (nint)ox * filters, ky0, ky1, 0, p.KernelWidth);
                for (; ox < p.OutputWidth; ox++) BorderPixel(tiles, g, p, srcRow, dstRow, ox, ky0, ky1);
            }
        }
    }

    /// <summary>
    /// Writes the patches of output pixels <paramref name="pixels"/> (indices into <c>batch × outputHeight ×
    /// outputWidth</c>) to <paramref name="patches"/>, one row of <c>kh·kw·inChannels</c> values per pixel in HWIO order:
    /// <c>patches[m − pixels.Start, (ky·kw + kx)·C + c] = input[n, y·sh + ky·dh − padTop, x·sw + kx·dw − padLeft, c]</c>,
    /// zero where the window falls in the padding. With these rows, the convolution is a GEMM against the HWIO kernel
    /// seen as a <c>(kh·kw·C) × filters</c> matrix (an implicit GEMM when the caller gathers a few pixels at a time).
    /// </summary>
    /// <param name="input">NHWC input.</param>
    /// <param name="patches">At least <c>pixels.Count × kh·kw·C</c> values.</param>
    /// <param name="p">Shapes and window arithmetic.</param>
    /// <param name="pixels">The output pixels to gather.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GatherPatches(ReadOnlySpan<float> input, Span<float> patches, in Conv2DParams p, RowRange pixels)
    {
        CheckWindows(p);
        long pixelCount = WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth), depthCount = WindowChecks.Count(p.KernelHeight, p.KernelWidth, p.InputChannels);
        if (pixelCount > int.MaxValue || depthCount > int.MaxValue)
            throw new ArgumentException($"{pixelCount} output pixels or patches of {depthCount} values do not fit 32-bit counts: {p}.", nameof(p));
        int channels = p.InputChannels, depth = (int)depthCount, rowLength = p.KernelWidth * channels;
        int mapPixels = p.OutputHeight * p.OutputWidth;
        if (pixels.Start < 0 || pixels.End > pixelCount || pixels.Count < 0)
            throw new ArgumentOutOfRangeException(nameof(pixels), $"Pixels {pixels} outside [0, {pixelCount}).");
        if (input.Length < WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, channels))
            throw new ArgumentException($"Input has {input.Length} values, fewer than {p}.", nameof(input));
        if (patches.Length < (long)pixels.Count * depth)
            throw new ArgumentException($"Patches hold {patches.Length} values, fewer than {pixels.Count} × {depth}.", nameof(patches));
        if (pixels.Count == 0) return;
        // The first pixel's coordinates are divided out once; the rest step through the map (a division per pixel cost
        // as much as the RGB stem's whole gather).
        int n = pixels.Start / mapPixels, oy = (pixels.Start - n * mapPixels) / p.OutputWidth;
        int ox = pixels.Start - n * mapPixels - oy * p.OutputWidth;
        for (int m = pixels.Start; m < pixels.End; m++, ox++)
        {
            if (ox == p.OutputWidth)
            {
                ox = 0;
                if (++oy == p.OutputHeight)
                {
                    oy = 0;
                    n++;
                }
            }
            var patch = patches.Slice((m - pixels.Start) * depth, depth);
            int ix = ox * p.StrideWidth - p.PadLeft, kx0, kx1;
            if (p.DilationWidth == 1)
            {
                // ValidTaps without its divisions, which cost more than a thin input's whole window.
                kx0 = Math.Clamp(-ix, 0, p.KernelWidth);
                kx1 = Math.Clamp(p.InputWidth - ix, kx0, p.KernelWidth);
            }
            else
            {
                ValidTaps(ix, p.KernelWidth, p.DilationWidth, p.InputWidth, out kx0, out kx1);
            }
            for (int ky = 0; ky < p.KernelHeight; ky++)
            {
                var target = patch.Slice(ky * rowLength, rowLength);
                int iy = oy * p.StrideHeight + ky * p.DilationHeight - p.PadTop;
                if ((uint)iy >= (uint)p.InputHeight || kx0 == kx1)
                {
                    target.Clear();
                    continue;
                }
                var source = input.Slice(((n * p.InputHeight + iy) * p.InputWidth) * channels);
                if (kx0 > 0) target[..(kx0 * channels)].Clear();
                if (p.DilationWidth == 1)
                {
                    // Undilated taps of one window row are neighbouring pixels, so the row is one contiguous copy.
                    CopyRun(source.Slice((ix + kx0) * channels, (kx1 - kx0) * channels), target[(kx0 * channels)..]);
                }
                else
                {
                    for (int kx = kx0; kx < kx1; kx++)
                        CopyRun(source.Slice((ix + kx * p.DilationWidth) * channels, channels), target.Slice(kx * channels, channels));
                }
                if (kx1 < p.KernelWidth) target[(kx1 * channels)..].Clear();
            }
        }
    }

    /// <summary>
    /// A copy that stays inline for the short runs of thin inputs: the RGB stem's window rows are 9 or 21 values, for
    /// which a call to memmove costs more than the copy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRun(ReadOnlySpan<float> from, Span<float> to)
    {
        int length = from.Length;
        if (length > 16 || (uint)length > (uint)to.Length)
        {
            from.CopyTo(to);
            return;
        }
        ref float source = ref MemoryMarshal.GetReference(from);
        ref float target = ref MemoryMarshal.GetReference(to);
        if (length >= 8)
        {
            // Two overlapping 8-value moves cover any run of 8 to 16 values without touching memory outside it.
            Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref source), ref target);
            Vector256.StoreUnsafe(Vector256.LoadUnsafe(ref source, (nuint)(length - 8)), ref target, (nuint)(length - 8));
            return;
        }
        for (int i = 0; i < length; i++) Unsafe.Add(ref target, i) = Unsafe.Add(ref source, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BorderPixel<TTiles>(TTiles tiles, in Geometry g, in Conv2DParams p, float* srcRow, float* dstRow,
                                                   int ox, int ky0, int ky1)
        where TTiles : struct, ITiles
    {
        ValidTaps(ox * p.StrideWidth - p.PadLeft, p.KernelWidth, p.DilationWidth, p.InputWidth, out int kx0, out int kx1);
        tiles.Pixel(g, srcRow + ox * g.PixelStride, dstRow + (nint)ox * g.Filters, ky0, ky1, kx0, kx1);
    }

    private static bool IsPointwise(in Conv2DParams p)
        => p.KernelHeight == 1 && p.KernelWidth == 1 && p.StrideHeight == 1 && p.StrideWidth == 1
           && p.PadTop == 0 && p.PadLeft == 0 && p.InputHeight == p.OutputHeight && p.InputWidth == p.OutputWidth;

    /// <summary>The taps <c>[first, end)</c> of a window starting at <paramref name="origin"/> that land inside <c>[0, size)</c>.</summary>
    internal static void ValidTaps(int origin, int taps, int dilation, int size, out int first, out int end)
    {
        first = origin >= 0 ? 0 : Math.Min(taps, CeilDiv(-origin, dilation));
        int last = size - 1 - origin;
        end = last < 0 ? 0 : Math.Min(taps, last / dilation + 1);
        if (end < first) end = first;
    }

    /// <summary>The output columns <c>[start, end)</c> whose whole window row lies inside the input, so need no clipping.</summary>
    internal static void InteriorColumns(int inputWidth, int outputWidth, int kernelWidth, int stride, int dilation, int padLeft,
                                         out int start, out int end)
    {
        start = Math.Min(outputWidth, CeilDiv(Math.Max(padLeft, 0), stride));
        int lastOrigin = inputWidth - 1 - (kernelWidth - 1) * dilation + padLeft;
        end = lastOrigin < 0 ? 0 : Math.Min(outputWidth, lastOrigin / stride + 1);
        if (end < start) end = start;
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    private static void Validate(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                 ReadOnlySpan<float> output, in Conv2DParams p, RowRange rows)
    {
        // The kernels index through raw pointers, so every extent is checked once here instead of on every load.
        CheckWindows(p);
        if (input.Length < WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.InputChannels))
            throw new ArgumentException($"Input has {input.Length} values, fewer than {p}.", nameof(input));
        if (kernel.Length < WindowChecks.Count(p.KernelHeight, p.KernelWidth, p.InputChannels, p.OutputChannels))
            throw new ArgumentException($"Kernel has {kernel.Length} values, fewer than {p}.", nameof(kernel));
        if (!bias.IsEmpty && bias.Length < p.OutputChannels)
            throw new ArgumentException($"Bias has {bias.Length} values for {p.OutputChannels} output channels.", nameof(bias));
        if (output.Length < WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.OutputChannels))
            throw new ArgumentException($"Output has {output.Length} values, fewer than {p}.", nameof(output));
        if (rows.Start < 0 || rows.End > p.RowCount || rows.Count < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"Rows {rows} outside [0, {p.RowCount}).");
    }

    /// <summary>
    /// The window arithmetic of <paramref name="p"/> in 64 bits (see <see cref="WindowChecks"/>): sizes, pads and
    /// channel counts non-negative, kernel, strides and dilations positive, no coordinate or row count past 32 bits.
    /// </summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    internal static void CheckWindows(in Conv2DParams p)
    {
        WindowChecks.Axis("height", p.InputHeight, p.OutputHeight, p.KernelHeight, p.StrideHeight, p.DilationHeight, p.PadTop, p);
        WindowChecks.Axis("width", p.InputWidth, p.OutputWidth, p.KernelWidth, p.StrideWidth, p.DilationWidth, p.PadLeft, p);
        WindowChecks.Rows(p.Batch, p.OutputHeight, p);
        WindowChecks.Channels(p.InputChannels, 1, p);
        WindowChecks.Channels(p.OutputChannels, 1, p);
    }

    /// <summary>Pointers and strides shared by every tile of one call; <c>Bias</c> is null when there is none.</summary>
    private unsafe struct Geometry
    {
        public float* Kernel;
        public float* Bias;
        public int Channels;
        public int Filters;
        public int KernelWidth;
        public nint TapRowStride;
        public nint TapColumnStride;
        public nint PixelStride;
    }

    /// <summary>
    /// One vector width's micro-kernels. <c>src</c> is the input position of tap (0, 0) of the first pixel (it may lie in
    /// the padding; only taps <c>[ky0, ky1) × [kx0, kx1)</c> are read), <c>dst</c> the first pixel's output channels.
    /// </summary>
    private unsafe interface ITiles
    {
        /// <summary>Pixels per <see cref="Tile"/>.</summary>
        static abstract int Pixels { get; }

        /// <summary><see cref="Pixels"/> pixels, <c>PixelStride</c> apart in the input, all with the same taps.</summary>
        void Tile(in Geometry g, float* src, float* dst, int ky0, int ky1, int kx0, int kx1);

        /// <summary>One pixel.</summary>
        void Pixel(in Geometry g, float* src, float* dst, int ky0, int ky1, int kx0, int kx1);
    }

    private readonly unsafe struct Tiles512<TActivation>(TActivation activation) : ITiles
        where TActivation : struct, IActivation
    {
        // 6 pixels × 2 vectors = 12 accumulators of 32 registers: each pair of kernel loads feeds 12 FMAs.
        public static int Pixels => 6;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Tile(in Geometry g, float* src, float* dst, int ky0, int ky1, int kx0, int kx1)
        {
            int channels = g.Channels, filters = g.Filters;
            nint ps = g.PixelStride;
            int f = 0;
            for (; f + 32 <= filters; f += 32)
            {
                var b0 = g.Bias == null ? Vector512<float>.Zero : Vector512.Load(g.Bias + f);
                var b1 = g.Bias == null ? Vector512<float>.Zero : Vector512.Load(g.Bias + f + 16);
                Vector512<float> a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1;
                Vector512<float> a30 = b0, a31 = b1, a40 = b0, a41 = b1, a50 = b0, a51 = b1;
                for (int ky = ky0; ky < ky1; ky++)
                {
                    for (int kx = kx0; kx < kx1; kx++)
                    {
                        float* x = src + ky * g.TapRowStride + kx * g.TapColumnStride;
                        float* w = g.Kernel + ((nint)(ky * g.KernelWidth + kx) * channels) * filters + f;
                        for (int c = 0; c < channels; c++, w += filters)
                        {
                            var w0 = Vector512.Load(w);
                            var w1 = Vector512.Load(w + 16);
                            var v = Vector512.Create(x[c]);
                            a00 = Vector512.FusedMultiplyAdd(v, w0, a00);
                            a01 = Vector512.FusedMultiplyAdd(v, w1, a01);
                            v = Vector512.Create(x[c + ps]);
                            a10 = Vector512.FusedMultiplyAdd(v, w0, a10);
                            a11 = Vector512.FusedMultiplyAdd(v, w1, a11);
                            v = Vector512.Create(x[c + 2 * ps]);
                            a20 = Vector512.FusedMultiplyAdd(v, w0, a20);
                            a21 = Vector512.FusedMultiplyAdd(v, w1, a21);
                            v = Vector512.Create(x[c + 3 * ps]);
                            a30 = Vector512.FusedMultiplyAdd(v, w0, a30);
                            a31 = Vector512.FusedMultiplyAdd(v, w1, a31);
                            v = Vector512.Create(x[c + 4 * ps]);
                            a40 = Vector512.FusedMultiplyAdd(v, w0, a40);
                            a41 = Vector512.FusedMultiplyAdd(v, w1, a41);
                            v = Vector512.Create(x[c + 5 * ps]);
                            a50 = Vector512.FusedMultiplyAdd(v, w0, a50);
                            a51 = Vector512.FusedMultiplyAdd(v, w1, a51);
                        }
                    }
                }
                float* o = dst + f;
                Vector512.Store(activation.Invoke(a00), o);
                Vector512.Store(activation.Invoke(a01), o + 16);
                o += filters;
                Vector512.Store(activation.Invoke(a10), o);
                Vector512.Store(activation.Invoke(a11), o + 16);
                o += filters;
                Vector512.Store(activation.Invoke(a20), o);
                Vector512.Store(activation.Invoke(a21), o + 16);
                o += filters;
                Vector512.Store(activation.Invoke(a30), o);
                Vector512.Store(activation.Invoke(a31), o + 16);
                o += filters;
                Vector512.Store(activation.Invoke(a40), o);
                Vector512.Store(activation.Invoke(a41), o + 16);
                o += filters;
                Vector512.Store(activation.Invoke(a50), o);
                Vector512.Store(activation.Invoke(a51), o + 16);
            }
            if (f + 16 <= filters)
            {
                var b0 = g.Bias == null ? Vector512<float>.Zero : Vector512.Load(g.Bias + f);
                Vector512<float> a0 = b0, a1 = b0, a2 = b0, a3 = b0, a4 = b0, a5 = b0;
                for (int ky = ky0; ky < ky1; ky++)
                {
                    for (int kx = kx0; kx < kx1; kx++)
                    {
                        float* x = src + ky * g.TapRowStride + kx * g.TapColumnStride;
                        float* w = g.Kernel + ((nint)(ky * g.KernelWidth + kx) * channels) * filters + f;
                        for (int c = 0; c < channels; c++, w += filters)
                        {
                            var w0 = Vector512.Load(w);
                            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(x[c]), w0, a0);
                            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(x[c + ps]), w0, a1);
                            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(x[c + 2 * ps]), w0, a2);
                            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(x[c + 3 * ps]), w0, a3);
                            a4 = Vector512.FusedMultiplyAdd(Vector512.Create(x[c + 4 * ps]), w0, a4);
                            a5 = Vector512.FusedMultiplyAdd(Vector512.Create(x[c + 5 * ps]), w0, a5);
                        }
                    }
                }
                float* o = dst + f;
                Vector512.Store(activation.Invoke(a0), o);
                Vector512.Store(activation.Invoke(a1), o + filters);
                Vector512.Store(activation.Invoke(a2), o + 2 * filters);
                Vector512.Store(activation.Invoke(a3), o + 3 * filters);
                Vector512.Store(activation.Invoke(a4), o + 4 * filters);
                Vector512.Store(activation.Invoke(a5), o + 5 * filters);
                f += 16;
            }
            if (f + 8 <= filters)
            {
                Tile8(g, activation, src, dst, f, Pixels, ky0, ky1, kx0, kx1);
                f += 8;
            }
            if (f < filters) ScalarChannels(g, activation, src, dst, f, Pixels, ky0, ky1, kx0, kx1);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Pixel(in Geometry g, float* src, float* dst, int ky0, int ky1, int kx0, int kx1)
        {
            int channels = g.Channels, filters = g.Filters;
            int f = 0;
            for (; f + 32 <= filters; f += 32)
            {
                var a0 = g.Bias == null ? Vector512<float>.Zero : Vector512.Load(g.Bias + f);
                var a1 = g.Bias == null ? Vector512<float>.Zero : Vector512.Load(g.Bias + f + 16);
                for (int ky = ky0; ky < ky1; ky++)
                {
                    for (int kx = kx0; kx < kx1; kx++)
                    {
                        float* x = src + ky * g.TapRowStride + kx * g.TapColumnStride;
                        float* w = g.Kernel + ((nint)(ky * g.KernelWidth + kx) * channels) * filters + f;
                        for (int c = 0; c < channels; c++, w += filters)
                        {
                            var v = Vector512.Create(x[c]);
                            a0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(w), a0);
                            a1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(w + 16), a1);
                        }
                    }
                }
                Vector512.Store(activation.Invoke(a0), dst + f);
                Vector512.Store(activation.Invoke(a1), dst + f + 16);
            }
            if (f + 16 <= filters)
            {
                var a0 = g.Bias == null ? Vector512<float>.Zero : Vector512.Load(g.Bias + f);
                for (int ky = ky0; ky < ky1; ky++)
                {
                    for (int kx = kx0; kx < kx1; kx++)
                    {
                        float* x = src + ky * g.TapRowStride + kx * g.TapColumnStride;
                        float* w = g.Kernel + ((nint)(ky * g.KernelWidth + kx) * channels) * filters + f;
                        for (int c = 0; c < channels; c++, w += filters)
                            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(x[c]), Vector512.Load(w), a0);
                    }
                }
                Vector512.Store(activation.Invoke(a0), dst + f);
                f += 16;
            }
            if (f + 8 <= filters)
            {
                Tile8(g, activation, src, dst, f, 1, ky0, ky1, kx0, kx1);
                f += 8;
            }
            if (f < filters) ScalarChannels(g, activation, src, dst, f, 1, ky0, ky1, kx0, kx1);
        }
    }

    private readonly unsafe struct Tiles256<TActivation>(TActivation activation) : ITiles
        where TActivation : struct, IActivation
    {
        // 4 pixels × 2 vectors = 8 accumulators, leaving room in AVX2's 16 registers for kernel rows and the broadcast.
        public static int Pixels => TilePixels;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Tile(in Geometry g, float* src, float* dst, int ky0, int ky1, int kx0, int kx1)
        {
            int channels = g.Channels, filters = g.Filters;
            nint ps = g.PixelStride;
            int f = 0;
            for (; f + 16 <= filters; f += 16)
            {
                var b0 = g.Bias == null ? Vector256<float>.Zero : Vector256.Load(g.Bias + f);
                var b1 = g.Bias == null ? Vector256<float>.Zero : Vector256.Load(g.Bias + f + 8);
                Vector256<float> a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
                for (int ky = ky0; ky < ky1; ky++)
                {
                    for (int kx = kx0; kx < kx1; kx++)
                    {
                        float* x = src + ky * g.TapRowStride + kx * g.TapColumnStride;
                        float* w = g.Kernel + ((nint)(ky * g.KernelWidth + kx) * channels) * filters + f;
                        for (int c = 0; c < channels; c++, w += filters)
                        {
                            var w0 = Vector256.Load(w);
                            var w1 = Vector256.Load(w + 8);
                            var v = Vector256.Create(x[c]);
                            a00 = Vector256.FusedMultiplyAdd(v, w0, a00);
                            a01 = Vector256.FusedMultiplyAdd(v, w1, a01);
                            v = Vector256.Create(x[c + ps]);
                            a10 = Vector256.FusedMultiplyAdd(v, w0, a10);
                            a11 = Vector256.FusedMultiplyAdd(v, w1, a11);
                            v = Vector256.Create(x[c + 2 * ps]);
                            a20 = Vector256.FusedMultiplyAdd(v, w0, a20);
                            a21 = Vector256.FusedMultiplyAdd(v, w1, a21);
                            v = Vector256.Create(x[c + 3 * ps]);
                            a30 = Vector256.FusedMultiplyAdd(v, w0, a30);
                            a31 = Vector256.FusedMultiplyAdd(v, w1, a31);
                        }
                    }
                }
                float* o = dst + f;
                Vector256.Store(activation.Invoke(a00), o);
                Vector256.Store(activation.Invoke(a01), o + 8);
                o += filters;
                Vector256.Store(activation.Invoke(a10), o);
                Vector256.Store(activation.Invoke(a11), o + 8);
                o += filters;
                Vector256.Store(activation.Invoke(a20), o);
                Vector256.Store(activation.Invoke(a21), o + 8);
                o += filters;
                Vector256.Store(activation.Invoke(a30), o);
                Vector256.Store(activation.Invoke(a31), o + 8);
            }
            if (f + 8 <= filters)
            {
                Tile8(g, activation, src, dst, f, TilePixels, ky0, ky1, kx0, kx1);
                f += 8;
            }
            if (f < filters) ScalarChannels(g, activation, src, dst, f, TilePixels, ky0, ky1, kx0, kx1);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Pixel(in Geometry g, float* src, float* dst, int ky0, int ky1, int kx0, int kx1)
        {
            int channels = g.Channels, filters = g.Filters;
            int f = 0;
            for (; f + 16 <= filters; f += 16)
            {
                var a0 = g.Bias == null ? Vector256<float>.Zero : Vector256.Load(g.Bias + f);
                var a1 = g.Bias == null ? Vector256<float>.Zero : Vector256.Load(g.Bias + f + 8);
                for (int ky = ky0; ky < ky1; ky++)
                {
                    for (int kx = kx0; kx < kx1; kx++)
                    {
                        float* x = src + ky * g.TapRowStride + kx * g.TapColumnStride;
                        float* w = g.Kernel + ((nint)(ky * g.KernelWidth + kx) * channels) * filters + f;
                        for (int c = 0; c < channels; c++, w += filters)
                        {
                            var v = Vector256.Create(x[c]);
                            a0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w), a0);
                            a1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(w + 8), a1);
                        }
                    }
                }
                Vector256.Store(activation.Invoke(a0), dst + f);
                Vector256.Store(activation.Invoke(a1), dst + f + 8);
            }
            if (f + 8 <= filters)
            {
                Tile8(g, activation, src, dst, f, 1, ky0, ky1, kx0, kx1);
                f += 8;
            }
            if (f < filters) ScalarChannels(g, activation, src, dst, f, 1, ky0, ky1, kx0, kx1);
        }
    }

    private readonly unsafe struct TilesScalar<TActivation>(TActivation activation) : ITiles
        where TActivation : struct, IActivation
    {
        public static int Pixels => TilePixels;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Tile(in Geometry g, float* src, float* dst, int ky0, int ky1, int kx0, int kx1)
            => ScalarChannels(g, activation, src, dst, 0, TilePixels, ky0, ky1, kx0, kx1);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Pixel(in Geometry g, float* src, float* dst, int ky0, int ky1, int kx0, int kx1)
            => ScalarChannels(g, activation, src, dst, 0, 1, ky0, ky1, kx0, kx1);
    }

    /// <summary>Output channels <c>[f, f + 8)</c> of <paramref name="pixels"/> pixels, one 8-lane accumulator each.</summary>
    private static unsafe void Tile8<TActivation>(in Geometry g, TActivation activation, float* src, float* dst, int f, int pixels,
                                                  int ky0, int ky1, int kx0, int kx1)
        where TActivation : struct, IActivation
    {
        int channels = g.Channels, filters = g.Filters;
        for (int i = 0; i < pixels; i++)
        {
            float* s = src + i * g.PixelStride;
            var a = g.Bias == null ? Vector256<float>.Zero : Vector256.Load(g.Bias + f);
            for (int ky = ky0; ky < ky1; ky++)
            {
                for (int kx = kx0; kx < kx1; kx++)
                {
                    float* x = s + ky * g.TapRowStride + kx * g.TapColumnStride;
                    float* w = g.Kernel + ((nint)(ky * g.KernelWidth + kx) * channels) * filters + f;
                    for (int c = 0; c < channels; c++, w += filters)
                        a = Vector256.FusedMultiplyAdd(Vector256.Create(x[c]), Vector256.Load(w), a);
                }
            }
            Vector256.Store(activation.Invoke(a), dst + (nint)i * filters + f);
        }
    }

    /// <summary>Output channels <c>[f, Filters)</c> of <paramref name="pixels"/> pixels in scalar code: the tail of every width.</summary>
    // Kept out of line so the rarely taken tail does not bloat the tiles' register allocation.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void ScalarChannels<TActivation>(in Geometry g, TActivation activation, float* src, float* dst, int f, int pixels,
                                                           int ky0, int ky1, int kx0, int kx1)
        where TActivation : struct, IActivation
    {
        int channels = g.Channels, filters = g.Filters;
        for (int i = 0; i < pixels; i++)
        {
            float* s = src + i * g.PixelStride;
            float* o = dst + (nint)i * filters;
            for (int j = f; j < filters; j++)
            {
                float sum = g.Bias == null ? 0f : g.Bias[j];
                for (int ky = ky0; ky < ky1; ky++)
                {
                    for (int kx = kx0; kx < kx1; kx++)
                    {
                        float* x = s + ky * g.TapRowStride + kx * g.TapColumnStride;
                        float* w = g.Kernel + ((nint)(ky * g.KernelWidth + kx) * channels) * filters + j;
                        for (int c = 0; c < channels; c++, w += filters) sum = MathF.FusedMultiplyAdd(x[c], *w, sum);
                    }
                }
                o[j] = activation.Invoke(sum);
            }
        }
    }
}
