using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

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

/// <summary>NHWC pooling and padding kernels, vectorized over channels, each written once over <see cref="ILanes{TVector}"/>.</summary>
/// <remarks>
/// Outputs never alias inputs here, so a channel count that is not a multiple of the vector width ends with one
/// overlapping vector (recomputing a few channels with identical results) instead of a scalar tail; only channel counts
/// below the width run on the scalar lane.
/// </remarks>
public static class PoolingKernels
{
    /// <summary>
    /// Max over each window of in-bounds cells, and of 0 for a window that reaches into the padding when
    /// <see cref="Pooling2DParams.PaddedCellsAreZeros"/>; output rows <paramref name="rows"/> of <c>batch × outputHeight</c>.
    /// </summary>
    public static void MaxPool(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows, SimdWidth width = SimdWidth.Auto)
    {
        CheckWindow(input.Length, output.Length, in p, rows);
        var kernel = new WindowKernel<MaxReduction> { Input = input, Output = output, Params = p, Rows = rows };
        SimdDispatch.Run(width, ref kernel);
    }

    /// <summary>Mean over each window of in-bounds cells (TensorFlow divides by the count of in-bounds cells).</summary>
    /// <exception cref="ArgumentException"><see cref="Pooling2DParams.PaddedCellsAreZeros"/> is set (not supported for the mean).</exception>
    public static void AveragePool(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows, SimdWidth width = SimdWidth.Auto)
    {
        CheckWindow(input.Length, output.Length, in p, rows);
        if (p.PaddedCellsAreZeros) throw new ArgumentException("padded cells count as zeros only for max pooling", nameof(p));
        var kernel = new WindowKernel<MeanReduction> { Input = input, Output = output, Params = p, Rows = rows };
        SimdDispatch.Run(width, ref kernel);
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
    public static void GlobalAveragePool(ReadOnlySpan<float> input, Span<float> output, int pixels, SimdWidth width = SimdWidth.Auto)
    {
        CheckGlobal(input.Length, output.Length, pixels);
        var kernel = new GlobalKernel<MeanReduction> { Input = input, Output = output, Pixels = pixels };
        SimdDispatch.Run(width, ref kernel);
    }

    /// <summary>Max over all <paramref name="pixels"/> of one image; <c>output.Length</c> is the channel count.</summary>
    public static void GlobalMaxPool(ReadOnlySpan<float> input, Span<float> output, int pixels, SimdWidth width = SimdWidth.Auto)
    {
        CheckGlobal(input.Length, output.Length, pixels);
        var kernel = new GlobalKernel<MaxReduction> { Input = input, Output = output, Pixels = pixels };
        SimdDispatch.Run(width, ref kernel);
    }

    private ref struct WindowKernel<TReduction> : ISimdKernel where TReduction : struct, IReduction
    {
        public ReadOnlySpan<float> Input;
        public Span<float> Output;
        public Pooling2DParams Params;
        public RowRange Rows;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            if (Params.Channels < TLanes.Count) WindowBody<LanesScalar, float, TReduction>(Input, Output, in Params, Rows);
            else WindowBody<TLanes, TVector, TReduction>(Input, Output, in Params, Rows);
        }
    }

    private ref struct GlobalKernel<TReduction> : ISimdKernel where TReduction : struct, IReduction
    {
        public ReadOnlySpan<float> Input;
        public Span<float> Output;
        public int Pixels;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            ref float src = ref MemoryMarshal.GetReference(Input);
            ref float dst = ref MemoryMarshal.GetReference(Output);
            if (Output.Length < TLanes.Count) GlobalBody<LanesScalar, float, TReduction>(ref src, ref dst, Output.Length, Pixels);
            else GlobalBody<TLanes, TVector, TReduction>(ref src, ref dst, Output.Length, Pixels);
        }
    }

    /// <summary>Rows of a window pooling with at least <c>TLanes.Count</c> channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WindowBody<TLanes, TVector, TReduction>(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TReduction : struct, IReduction
    {
        int lanes = TLanes.Count;
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
                var seed = TLanes.Create(zeroPadded && count < windowCells ? 0f : TReduction.Seed);
                ref float corner = ref Unsafe.Add(ref src, image + ((nint)hStart * inW + wStart) * c);
                ref float o = ref Unsafe.Add(ref dst, ((nint)row * p.OutputWidth + ow) * c);
                for (int ch = 0; ch < c; ch += lanes)
                {
                    // The last block overlaps the previous one when c is not a multiple of the lanes.
                    int at = Math.Min(ch, c - lanes);
                    var acc = seed;
                    for (int h = hStart; h < hEnd; h++)
                    {
                        ref float cell = ref Unsafe.Add(ref corner, (nint)(h - hStart) * inW * c + at);
                        for (int w = wStart; w < wEnd; w++, cell = ref Unsafe.Add(ref cell, pixelStride))
                            acc = TReduction.Combine<TLanes, TVector>(acc, TLanes.Load(ref cell, 0));
                    }
                    TLanes.Store(ref o, (nuint)at, TReduction.Finish<TLanes, TVector>(acc, count));
                }
            }
        }
    }

    /// <summary>A global pooling of at least <c>TLanes.Count</c> channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GlobalBody<TLanes, TVector, TReduction>(ref float src, ref float dst, int c, int pixels)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TReduction : struct, IReduction
    {
        int lanes = TLanes.Count, block = 0;
        nint stride = c;
        nuint l = (nuint)lanes;
        // Four accumulators per pass over the pixels: a quarter of the passes over the image, and independent chains.
        for (; block + 4 * lanes <= c; block += 4 * lanes)
        {
            var a0 = TLanes.Create(TReduction.Seed);
            var a1 = a0;
            var a2 = a0;
            var a3 = a0;
            ref float cell = ref Unsafe.Add(ref src, block);
            for (int i = 0; i < pixels; i++, cell = ref Unsafe.Add(ref cell, stride))
            {
                a0 = TReduction.Combine<TLanes, TVector>(a0, TLanes.Load(ref cell, 0));
                a1 = TReduction.Combine<TLanes, TVector>(a1, TLanes.Load(ref cell, l));
                a2 = TReduction.Combine<TLanes, TVector>(a2, TLanes.Load(ref cell, 2 * l));
                a3 = TReduction.Combine<TLanes, TVector>(a3, TLanes.Load(ref cell, 3 * l));
            }
            ref float o = ref Unsafe.Add(ref dst, block);
            TLanes.Store(ref o, 0, TReduction.Finish<TLanes, TVector>(a0, pixels));
            TLanes.Store(ref o, l, TReduction.Finish<TLanes, TVector>(a1, pixels));
            TLanes.Store(ref o, 2 * l, TReduction.Finish<TLanes, TVector>(a2, pixels));
            TLanes.Store(ref o, 3 * l, TReduction.Finish<TLanes, TVector>(a3, pixels));
        }
        for (; block < c; block += lanes)
        {
            int at = Math.Min(block, c - lanes);
            var acc = TLanes.Create(TReduction.Seed);
            ref float cell = ref Unsafe.Add(ref src, at);
            for (int i = 0; i < pixels; i++, cell = ref Unsafe.Add(ref cell, stride))
                acc = TReduction.Combine<TLanes, TVector>(acc, TLanes.Load(ref cell, 0));
            TLanes.Store(ref dst, (nuint)at, TReduction.Finish<TLanes, TVector>(acc, pixels));
        }
    }

    private static void CheckWindow(int inputLength, int outputLength, in Pooling2DParams p, RowRange rows)
    {
        CheckWindow(p);
        CheckLength(inputLength, WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.Channels), "input");
        CheckLength(outputLength, WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.Channels), "output");
        CheckRows(rows, p.RowCount);
    }

    /// <summary>The window parameters' checks that the forward and backward window poolings share.</summary>
    internal static void CheckWindow(in Pooling2DParams p)
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
        static abstract float Seed { get; }
        static abstract TVector Combine<TLanes, TVector>(TVector acc, TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged;
        static abstract TVector Finish<TLanes, TVector>(TVector acc, int count) where TLanes : struct, ILanes<TVector> where TVector : unmanaged;
    }

    /// <summary>Max; NaN propagates as in <see cref="MathF.Max"/>.</summary>
    private readonly struct MaxReduction : IReduction
    {
        public static float Seed => float.NegativeInfinity;
        public static TVector Combine<TLanes, TVector>(TVector acc, TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.Max(acc, x);
        public static TVector Finish<TLanes, TVector>(TVector acc, int count) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => acc;
    }

    /// <summary>Sum divided by the cell count, as TensorFlow does (a division, not a multiply by the reciprocal).</summary>
    private readonly struct MeanReduction : IReduction
    {
        public static float Seed => 0f;
        public static TVector Combine<TLanes, TVector>(TVector acc, TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.Add(acc, x);
        public static TVector Finish<TLanes, TVector>(TVector acc, int count) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.Divide(acc, TLanes.Create(count));
    }
}
