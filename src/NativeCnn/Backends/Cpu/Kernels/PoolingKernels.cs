using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Shapes and window arithmetic of one NHWC pooling; padded cells are ignored, or with <paramref name="PaddedCellsAreZeros"/>
/// (max pooling only) count as zeros.
/// </summary>
public readonly record struct Pooling2DParams(
    int Batch, int InputHeight, int InputWidth, int Channels,
    int OutputHeight, int OutputWidth,
    int PoolHeight, int PoolWidth, int StrideHeight, int StrideWidth, int PadTop, int PadLeft, bool PaddedCellsAreZeros = false)
{
    /// <summary>Work rows: <c>Batch * OutputHeight</c>.</summary>
    public int RowCount => Batch * OutputHeight;
}

/// <summary>Shapes of one NHWC zero padding.</summary>
public readonly record struct ZeroPadding2DParams(int Batch, int InputHeight, int InputWidth, int Channels, Padding2D Padding)
{
    /// <summary>Output height.</summary>
    public int OutputHeight => InputHeight + Padding.Top + Padding.Bottom;

    /// <summary>Output width.</summary>
    public int OutputWidth => InputWidth + Padding.Left + Padding.Right;

    /// <summary>Work rows: <c>Batch * OutputHeight</c>.</summary>
    public int RowCount => Batch * OutputHeight;
}

/// <summary>NHWC pooling and padding kernels, vectorized over channels.</summary>
/// <remarks>
/// Outputs never alias inputs here, so a channel count that is not a multiple of the vector width ends with one
/// overlapping vector (recomputing a few channels with identical results) instead of a scalar tail; only channel counts
/// below the width fall back to scalar code.
/// </remarks>
public static class PoolingKernels
{
    /// <summary>
    /// Max over each window of in-bounds cells, and of 0 for a window that reaches into the padding when
    /// <see cref="Pooling2DParams.PaddedCellsAreZeros"/>; output rows <paramref name="rows"/> of <c>batch × outputHeight</c>.
    /// </summary>
    public static void MaxPool(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows)
    {
        if (Vector512.IsHardwareAccelerated) MaxPoolVector512(input, output, in p, rows);
        else MaxPoolVector256(input, output, in p, rows);
    }

    /// <summary>Mean over each window of in-bounds cells (TensorFlow divides by the count of in-bounds cells).</summary>
    /// <exception cref="ArgumentException"><see cref="Pooling2DParams.PaddedCellsAreZeros"/> is set (not supported for the mean).</exception>
    public static void AveragePool(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows)
    {
        if (Vector512.IsHardwareAccelerated) AveragePoolVector512(input, output, in p, rows);
        else AveragePoolVector256(input, output, in p, rows);
    }

    /// <summary>Copies the input into the middle of a zero border; output rows <paramref name="rows"/> of <c>batch × outputHeight</c>.</summary>
    public static void ZeroPad(ReadOnlySpan<float> input, Span<float> output, in ZeroPadding2DParams p, RowRange rows)
    {
        CheckPadding(p);
        int c = p.Channels, outW = p.OutputWidth, outH = p.OutputHeight;
        CheckLength(input.Length, WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, c), "input");
        CheckLength(output.Length, WindowChecks.Count(p.Batch, outH, outW, c), "output");
        CheckRows(rows, p.RowCount);
        int rowLength = outW * c, left = p.Padding.Left * c, inner = p.InputWidth * c;
        for (int row = rows.Start; row < rows.End; row++)
        {
            int n = row / outH, h = row - n * outH - p.Padding.Top;
            var dst = output.Slice(row * rowLength, rowLength);
            if ((uint)h >= (uint)p.InputHeight)
            {
                dst.Clear();
                continue;
            }
            dst[..left].Clear();
            input.Slice((n * p.InputHeight + h) * inner, inner).CopyTo(dst.Slice(left, inner));
            dst[(left + inner)..].Clear();
        }
    }

    /// <summary>
    /// Mean over all <paramref name="pixels"/> of one image: <c>output[c] = Σ_p input[p, c] / pixels</c>, summed in
    /// float32 lanes per channel. <c>output.Length</c> is the channel count.
    /// </summary>
    public static void GlobalAveragePool(ReadOnlySpan<float> input, Span<float> output, int pixels)
    {
        if (Vector512.IsHardwareAccelerated) GlobalAveragePoolVector512(input, output, pixels);
        else GlobalAveragePoolVector256(input, output, pixels);
    }

    /// <summary>Max over all <paramref name="pixels"/> of one image; <c>output.Length</c> is the channel count.</summary>
    public static void GlobalMaxPool(ReadOnlySpan<float> input, Span<float> output, int pixels)
    {
        if (Vector512.IsHardwareAccelerated) GlobalMaxPoolVector512(input, output, pixels);
        else GlobalMaxPoolVector256(input, output, pixels);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MaxPoolVector512(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows)
        => WindowVector512(input, output, in p, rows, default(MaxReduction));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MaxPoolVector256(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows)
        => WindowVector256(input, output, in p, rows, default(MaxReduction));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AveragePoolVector512(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows)
        => WindowVector512(input, output, in p, rows, default(MeanReduction));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AveragePoolVector256(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows)
        => WindowVector256(input, output, in p, rows, default(MeanReduction));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GlobalAveragePoolVector512(ReadOnlySpan<float> input, Span<float> output, int pixels)
        => GlobalVector512(input, output, pixels, default(MeanReduction));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GlobalAveragePoolVector256(ReadOnlySpan<float> input, Span<float> output, int pixels)
        => GlobalVector256(input, output, pixels, default(MeanReduction));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GlobalMaxPoolVector512(ReadOnlySpan<float> input, Span<float> output, int pixels)
        => GlobalVector512(input, output, pixels, default(MaxReduction));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void GlobalMaxPoolVector256(ReadOnlySpan<float> input, Span<float> output, int pixels)
        => GlobalVector256(input, output, pixels, default(MaxReduction));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WindowVector512<TReduction>(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows,
                                                    TReduction reduction)
        where TReduction : struct, IReduction
    {
        CheckWindow(input.Length, output.Length, in p, rows);
        if (p.PaddedCellsAreZeros && reduction is not MaxReduction)
            throw new ArgumentException("padded cells count as zeros only for max pooling", nameof(p));
        bool zeroPadded = p.PaddedCellsAreZeros;
        long windowCells = (long)p.PoolHeight * p.PoolWidth;
        ref float src = ref MemoryMarshal.GetReference(input);
        ref float dst = ref MemoryMarshal.GetReference(output);
        int c = p.Channels, inW = p.InputWidth;
        nint pixelStride = c;
        for (int row = rows.Start; row < rows.End; row++)
        {
            int n = row / p.OutputHeight, oh = row - n * p.OutputHeight;
            int h0 = oh * p.StrideHeight - p.PadTop;
            // A window wholly in the padding (zero-padded max only) has no cells, not a negative count.
            int hStart = Math.Max(h0, 0), hEnd = Math.Max(hStart, Math.Min(h0 + p.PoolHeight, p.InputHeight));
            nint image = (nint)n * p.InputHeight * inW * c;
            for (int ow = 0; ow < p.OutputWidth; ow++)
            {
                int w0 = ow * p.StrideWidth - p.PadLeft;
                int wStart = Math.Max(w0, 0), wEnd = Math.Max(wStart, Math.Min(w0 + p.PoolWidth, inW));
                int count = (hEnd - hStart) * (wEnd - wStart);
                // A padded zero is one more cell of the max: start from it instead of reading it.
                float seed = zeroPadded && count < windowCells ? 0f : reduction.Seed;
                ref float corner = ref Unsafe.Add(ref src, image + ((nint)hStart * inW + wStart) * c);
                ref float o = ref Unsafe.Add(ref dst, ((nint)row * p.OutputWidth + ow) * c);
                if (c < 16)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        float acc = seed;
                        for (int h = hStart; h < hEnd; h++)
                        {
                            ref float cell = ref Unsafe.Add(ref corner, (nint)(h - hStart) * inW * c + ch);
                            for (int w = wStart; w < wEnd; w++, cell = ref Unsafe.Add(ref cell, pixelStride))
                                acc = reduction.Combine(acc, cell);
                        }
                        Unsafe.Add(ref o, ch) = reduction.Finish(acc, count);
                    }
                    continue;
                }
                for (int ch = 0; ch < c; ch += 16)
                {
                    // The last block overlaps the previous one when c is not a multiple of 16.
                    int at = Math.Min(ch, c - 16);
                    var acc = Vector512.Create(seed);
                    for (int h = hStart; h < hEnd; h++)
                    {
                        ref float cell = ref Unsafe.Add(ref corner, (nint)(h - hStart) * inW * c + at);
                        for (int w = wStart; w < wEnd; w++, cell = ref Unsafe.Add(ref cell, pixelStride))
                            acc = reduction.Combine(acc, Vector512.LoadUnsafe(ref cell));
                    }
                    reduction.Finish(acc, count).StoreUnsafe(ref o, (nuint)at);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WindowVector256<TReduction>(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows,
                                                    TReduction reduction)
        where TReduction : struct, IReduction
    {
        CheckWindow(input.Length, output.Length, in p, rows);
        if (p.PaddedCellsAreZeros && reduction is not MaxReduction)
            throw new ArgumentException("padded cells count as zeros only for max pooling", nameof(p));
        bool zeroPadded = p.PaddedCellsAreZeros;
        long windowCells = (long)p.PoolHeight * p.PoolWidth;
        ref float src = ref MemoryMarshal.GetReference(input);
        ref float dst = ref MemoryMarshal.GetReference(output);
        int c = p.Channels, inW = p.InputWidth;
        nint pixelStride = c;
        for (int row = rows.Start; row < rows.End; row++)
        {
            int n = row / p.OutputHeight, oh = row - n * p.OutputHeight;
            int h0 = oh * p.StrideHeight - p.PadTop;
            // A window wholly in the padding (zero-padded max only) has no cells, not a negative count.
            int hStart = Math.Max(h0, 0), hEnd = Math.Max(hStart, Math.Min(h0 + p.PoolHeight, p.InputHeight));
            nint image = (nint)n * p.InputHeight * inW * c;
            for (int ow = 0; ow < p.OutputWidth; ow++)
            {
                int w0 = ow * p.StrideWidth - p.PadLeft;
                int wStart = Math.Max(w0, 0), wEnd = Math.Max(wStart, Math.Min(w0 + p.PoolWidth, inW));
                int count = (hEnd - hStart) * (wEnd - wStart);
                // A padded zero is one more cell of the max: start from it instead of reading it.
                float seed = zeroPadded && count < windowCells ? 0f : reduction.Seed;
                ref float corner = ref Unsafe.Add(ref src, image + ((nint)hStart * inW + wStart) * c);
                ref float o = ref Unsafe.Add(ref dst, ((nint)row * p.OutputWidth + ow) * c);
                if (c < 8)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        float acc = seed;
                        for (int h = hStart; h < hEnd; h++)
                        {
                            ref float cell = ref Unsafe.Add(ref corner, (nint)(h - hStart) * inW * c + ch);
                            for (int w = wStart; w < wEnd; w++, cell = ref Unsafe.Add(ref cell, pixelStride))
                                acc = reduction.Combine(acc, cell);
                        }
                        Unsafe.Add(ref o, ch) = reduction.Finish(acc, count);
                    }
                    continue;
                }
                for (int ch = 0; ch < c; ch += 8)
                {
                    int at = Math.Min(ch, c - 8);
                    var acc = Vector256.Create(seed);
                    for (int h = hStart; h < hEnd; h++)
                    {
                        ref float cell = ref Unsafe.Add(ref corner, (nint)(h - hStart) * inW * c + at);
                        for (int w = wStart; w < wEnd; w++, cell = ref Unsafe.Add(ref cell, pixelStride))
                            acc = reduction.Combine(acc, Vector256.LoadUnsafe(ref cell));
                    }
                    reduction.Finish(acc, count).StoreUnsafe(ref o, (nuint)at);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GlobalVector512<TReduction>(ReadOnlySpan<float> input, Span<float> output, int pixels, TReduction reduction)
        where TReduction : struct, IReduction
    {
        int c = output.Length;
        CheckGlobal(input.Length, c, pixels);
        ref float src = ref MemoryMarshal.GetReference(input);
        ref float dst = ref MemoryMarshal.GetReference(output);
        nint stride = c;
        if (c < 16)
        {
            for (int ch = 0; ch < c; ch++)
            {
                float acc = reduction.Seed;
                ref float cell = ref Unsafe.Add(ref src, ch);
                for (int i = 0; i < pixels; i++, cell = ref Unsafe.Add(ref cell, stride)) acc = reduction.Combine(acc, cell);
                Unsafe.Add(ref dst, ch) = reduction.Finish(acc, pixels);
            }
            return;
        }
        int block = 0;
        // Four accumulators per pass over the pixels: a quarter of the passes over the image, and independent chains.
        for (; block + 64 <= c; block += 64)
        {
            var a0 = Vector512.Create(reduction.Seed);
            var a1 = a0;
            var a2 = a0;
            var a3 = a0;
            ref float cell = ref Unsafe.Add(ref src, block);
            for (int i = 0; i < pixels; i++, cell = ref Unsafe.Add(ref cell, stride))
            {
                a0 = reduction.Combine(a0, Vector512.LoadUnsafe(ref cell));
                a1 = reduction.Combine(a1, Vector512.LoadUnsafe(ref cell, 16));
                a2 = reduction.Combine(a2, Vector512.LoadUnsafe(ref cell, 32));
                a3 = reduction.Combine(a3, Vector512.LoadUnsafe(ref cell, 48));
            }
            ref float o = ref Unsafe.Add(ref dst, block);
            reduction.Finish(a0, pixels).StoreUnsafe(ref o);
            reduction.Finish(a1, pixels).StoreUnsafe(ref o, 16);
            reduction.Finish(a2, pixels).StoreUnsafe(ref o, 32);
            reduction.Finish(a3, pixels).StoreUnsafe(ref o, 48);
        }
        for (; block < c; block += 16)
        {
            int at = Math.Min(block, c - 16);
            var acc = Vector512.Create(reduction.Seed);
            ref float cell = ref Unsafe.Add(ref src, at);
            for (int i = 0; i < pixels; i++, cell = ref Unsafe.Add(ref cell, stride)) acc = reduction.Combine(acc, Vector512.LoadUnsafe(ref cell));
            reduction.Finish(acc, pixels).StoreUnsafe(ref dst, (nuint)at);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GlobalVector256<TReduction>(ReadOnlySpan<float> input, Span<float> output, int pixels, TReduction reduction)
        where TReduction : struct, IReduction
    {
        int c = output.Length;
        CheckGlobal(input.Length, c, pixels);
        ref float src = ref MemoryMarshal.GetReference(input);
        ref float dst = ref MemoryMarshal.GetReference(output);
        nint stride = c;
        if (c < 8)
        {
            for (int ch = 0; ch < c; ch++)
            {
                float acc = reduction.Seed;
                ref float cell = ref Unsafe.Add(ref src, ch);
                for (int i = 0; i < pixels; i++, cell = ref Unsafe.Add(ref cell, stride)) acc = reduction.Combine(acc, cell);
                Unsafe.Add(ref dst, ch) = reduction.Finish(acc, pixels);
            }
            return;
        }
        int block = 0;
        for (; block + 32 <= c; block += 32)
        {
            var a0 = Vector256.Create(reduction.Seed);
            var a1 = a0;
            var a2 = a0;
            var a3 = a0;
            ref float cell = ref Unsafe.Add(ref src, block);
            for (int i = 0; i < pixels; i++, cell = ref Unsafe.Add(ref cell, stride))
            {
                a0 = reduction.Combine(a0, Vector256.LoadUnsafe(ref cell));
                a1 = reduction.Combine(a1, Vector256.LoadUnsafe(ref cell, 8));
                a2 = reduction.Combine(a2, Vector256.LoadUnsafe(ref cell, 16));
                a3 = reduction.Combine(a3, Vector256.LoadUnsafe(ref cell, 24));
            }
            ref float o = ref Unsafe.Add(ref dst, block);
            reduction.Finish(a0, pixels).StoreUnsafe(ref o);
            reduction.Finish(a1, pixels).StoreUnsafe(ref o, 8);
            reduction.Finish(a2, pixels).StoreUnsafe(ref o, 16);
            reduction.Finish(a3, pixels).StoreUnsafe(ref o, 24);
        }
        for (; block < c; block += 8)
        {
            int at = Math.Min(block, c - 8);
            var acc = Vector256.Create(reduction.Seed);
            ref float cell = ref Unsafe.Add(ref src, at);
            for (int i = 0; i < pixels; i++, cell = ref Unsafe.Add(ref cell, stride)) acc = reduction.Combine(acc, Vector256.LoadUnsafe(ref cell));
            reduction.Finish(acc, pixels).StoreUnsafe(ref dst, (nuint)at);
        }
    }

    private static void CheckWindow(int inputLength, int outputLength, in Pooling2DParams p, RowRange rows)
    {
        WindowChecks.Axis("height", p.InputHeight, p.OutputHeight, p.PoolHeight, p.StrideHeight, 1, p.PadTop, p);
        WindowChecks.Axis("width", p.InputWidth, p.OutputWidth, p.PoolWidth, p.StrideWidth, 1, p.PadLeft, p);
        WindowChecks.Rows(p.Batch, p.OutputHeight, p);
        WindowChecks.Channels(p.Channels, 1, p);
        // Ignored padding: a window with no input cell would have no maximum and a mean of 0/0.
        if (!p.PaddedCellsAreZeros && p.OutputHeight > 0 && p.OutputWidth > 0
            && (p.PadTop >= p.PoolHeight || p.PadLeft >= p.PoolWidth
                || (long)(p.OutputHeight - 1) * p.StrideHeight - p.PadTop >= p.InputHeight
                || (long)(p.OutputWidth - 1) * p.StrideWidth - p.PadLeft >= p.InputWidth))
            throw new ArgumentException($"Some windows lie wholly in the ignored padding (no cell to pool): {p}.", nameof(p));
        CheckLength(inputLength, WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.Channels), "input");
        CheckLength(outputLength, WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.Channels), "output");
        CheckRows(rows, p.RowCount);
    }

    private static void CheckPadding(in ZeroPadding2DParams p)
    {
        var pad = p.Padding;
        if (p.Batch < 0 || p.InputHeight < 0 || p.InputWidth < 0 || p.Channels < 0 || pad.Top < 0 || pad.Bottom < 0 || pad.Left < 0 || pad.Right < 0)
            throw new ArgumentException($"Sizes and pads must be non-negative: {p}.", nameof(p));
        long height = (long)p.InputHeight + pad.Top + pad.Bottom, width = (long)p.InputWidth + pad.Left + pad.Right;
        if (height > int.MaxValue || width > int.MaxValue || (long)p.Batch * height > int.MaxValue || width * p.Channels > int.MaxValue)
            throw new ArgumentException($"The padded output {p.Batch} x {height} x {width} x {p.Channels} does not fit 32-bit sizes: {p}.", nameof(p));
    }

    private static void CheckGlobal(int inputLength, int channels, int pixels)
    {
        if (pixels <= 0) throw new ArgumentOutOfRangeException(nameof(pixels), pixels, "a global pool needs at least one pixel");
        CheckLength(inputLength, (long)pixels * channels, "input");
    }

    private static void CheckLength(int length, long required, string what)
    {
        if (length < required) throw new ArgumentException($"{what} has {length} elements, the shapes need {required}");
    }

    private static void CheckRows(RowRange rows, int rowCount)
    {
        if (rows.Start < 0 || rows.End > rowCount || rows.Start > rows.End)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must lie in [0, {rowCount})");
    }

    /// <summary>How a window is folded to one value: a seed, a combine step and a finish with the cell count.</summary>
    private interface IReduction
    {
        float Seed { get; }
        float Combine(float acc, float x);
        Vector256<float> Combine(Vector256<float> acc, Vector256<float> x);
        Vector512<float> Combine(Vector512<float> acc, Vector512<float> x);
        float Finish(float acc, int count);
        Vector256<float> Finish(Vector256<float> acc, int count);
        Vector512<float> Finish(Vector512<float> acc, int count);
    }

    /// <summary>Max; NaN propagates as in <see cref="MathF.Max"/>.</summary>
    private readonly struct MaxReduction : IReduction
    {
        public float Seed => float.NegativeInfinity;
        public float Combine(float acc, float x) => MathF.Max(acc, x);
        public Vector256<float> Combine(Vector256<float> acc, Vector256<float> x) => Vector256.Max(acc, x);
        public Vector512<float> Combine(Vector512<float> acc, Vector512<float> x) => Vector512.Max(acc, x);
        public float Finish(float acc, int count) => acc;
        public Vector256<float> Finish(Vector256<float> acc, int count) => acc;
        public Vector512<float> Finish(Vector512<float> acc, int count) => acc;
    }

    /// <summary>Sum divided by the cell count, as TensorFlow does (a division, not a multiply by the reciprocal).</summary>
    private readonly struct MeanReduction : IReduction
    {
        public float Seed => 0f;
        public float Combine(float acc, float x) => acc + x;
        public Vector256<float> Combine(Vector256<float> acc, Vector256<float> x) => acc + x;
        public Vector512<float> Combine(Vector512<float> acc, Vector512<float> x) => acc + x;
        public float Finish(float acc, int count) => acc / count;
        public Vector256<float> Finish(Vector256<float> acc, int count) => acc / Vector256.Create((float)count);
        public Vector512<float> Finish(Vector512<float> acc, int count) => acc / Vector512.Create((float)count);
    }
}
