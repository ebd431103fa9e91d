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
/// The window arithmetic of NHWC 2-D convolutions, and the patch gather of the implicit GEMM. The convolutions
/// themselves run on the packed GEMM (<see cref="PointwiseConvKernels"/>) and Winograd (<see cref="WinogradKernels"/>).
/// </summary>
public static class Conv2DKernels
{
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
}
