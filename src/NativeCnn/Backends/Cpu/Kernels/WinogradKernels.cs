using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Winograd F(2x2, 3x3) for NHWC 3x3 stride-1 undilated convolutions (Lavin and Gray, "Fast Algorithms for
/// Convolutional Neural Networks", 2015). Each 2x2 block of output pixels (a tile) is read as the 4x4 input window
/// around it; both the window and the kernel are transformed so that the convolution becomes 16 independent GEMMs
/// <c>(tiles × inChannels) · (inChannels × outChannels)</c>, one per transformed position, with 16 multiplies per tile
/// and channel pair instead of 36. The transforms are exact in real arithmetic (their entries are 0, ±1 and ±1/2);
/// float32 rounding stays within a few ulps of the window's magnitude. Transformed matrices are stored position-major:
/// position <c>p</c> of tile <c>t</c>, channel <c>c</c> at <c>(p · tiles + t) · channels + c</c>.
/// </summary>
public static class WinogradKernels
{
    /// <summary>Transformed positions per tile (4x4).</summary>
    public const int Positions = 16;

    /// <summary>Tiles (2x2 output blocks) of one output map: <c>batch · ⌈outH / 2⌉ · ⌈outW / 2⌉</c>.</summary>
    public static int TileCount(in Conv2DParams p) => p.Batch * TileRows(p) * TileColumns(p);

    /// <summary>Rows of tiles over all images, the unit the transforms split work by.</summary>
    public static int TileRowCount(in Conv2DParams p) => p.Batch * TileRows(p);

    private static int TileRows(in Conv2DParams p) => (p.OutputHeight + 1) / 2;

    private static int TileColumns(in Conv2DParams p) => (p.OutputWidth + 1) / 2;

    /// <summary>
    /// Transforms a 3x3 HWIO kernel into 16 matrices <c>(inChannels × outChannels)</c>, <c>U = G g Gᵀ</c> with
    /// <c>G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]</c>, position-major as <c>transformed[(p · C + c) · F + f]</c>.
    /// </summary>
    public static void TransformKernel(ReadOnlySpan<float> kernel, Span<float> transformed, int inputChannels, int outputChannels)
    {
        int c = inputChannels, f = outputChannels;
        if (kernel.Length < 9L * c * f) throw new ArgumentException($"Kernel has {kernel.Length} values, fewer than 3 × 3 × {c} × {f}.", nameof(kernel));
        if (transformed.Length < (long)Positions * c * f) throw new ArgumentException($"Output has {transformed.Length} values, fewer than 16 × {c} × {f}.", nameof(transformed));
        Span<double> g = stackalloc double[9];
        Span<double> gg = stackalloc double[12];
        for (int ci = 0; ci < c; ci++)
        {
            for (int fi = 0; fi < f; fi++)
            {
                for (int k = 0; k < 9; k++) g[k] = kernel[(k * c + ci) * f + fi];
                for (int x = 0; x < 3; x++)
                {
                    double g0 = g[x], g1 = g[3 + x], g2 = g[6 + x];
                    gg[x] = g0;
                    gg[3 + x] = (g0 + g1 + g2) / 2;
                    gg[6 + x] = (g0 - g1 + g2) / 2;
                    gg[9 + x] = g2;
                }
                for (int y = 0; y < 4; y++)
                {
                    double r0 = gg[3 * y], r1 = gg[3 * y + 1], r2 = gg[3 * y + 2];
                    transformed[((4 * y + 0) * c + ci) * f + fi] = (float)r0;
                    transformed[((4 * y + 1) * c + ci) * f + fi] = (float)((r0 + r1 + r2) / 2);
                    transformed[((4 * y + 2) * c + ci) * f + fi] = (float)((r0 - r1 + r2) / 2);
                    transformed[((4 * y + 3) * c + ci) * f + fi] = (float)r2;
                }
            }
        }
    }

    /// <summary>
    /// Transforms the input windows of tile rows <paramref name="tileRows"/>: <c>V = Bᵀ d B</c> with
    /// <c>Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]</c>, where <c>d</c> is the 4x4 window whose
    /// top-left input pixel is <c>(2·ty − padTop, 2·tx − padLeft)</c>, zero outside the input.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void TransformInput(ReadOnlySpan<float> input, Span<float> transformed, in Conv2DParams p, RowRange tileRows)
    {
        Check(p);
        int channels = p.InputChannels, tileRowsPerImage = TileRows(p), tileColumns = TileColumns(p), tiles = TileCount(p);
        if (input.Length < (long)p.Batch * p.InputHeight * p.InputWidth * channels)
            throw new ArgumentException($"Input has {input.Length} values, fewer than {p}.", nameof(input));
        if (transformed.Length < (long)Positions * tiles * channels)
            throw new ArgumentException($"Output has {transformed.Length} values, fewer than 16 × {tiles} × {channels}.", nameof(transformed));
        if (tileRows.Start < 0 || tileRows.End > TileRowCount(p)) throw new ArgumentOutOfRangeException(nameof(tileRows));
        nint positionStride = (nint)tiles * channels;
        var d = stackalloc Vector256<float>[16];
        float* lanes = stackalloc float[8];
        fixed (float* inputPtr = input, outputPtr = transformed)
        {
            for (int row = tileRows.Start; row < tileRows.End; row++)
            {
                int n = row / tileRowsPerImage, ty = row - n * tileRowsPerImage;
                for (int tx = 0; tx < tileColumns; tx++)
                {
                    int t = row * tileColumns + tx, iy0 = 2 * ty - p.PadTop, ix0 = 2 * tx - p.PadLeft;
                    for (int c = 0; c < channels; c += 8)
                    {
                        int count = Math.Min(8, channels - c);
                        for (int y = 0; y < 4; y++)
                        {
                            int iy = iy0 + y;
                            for (int x = 0; x < 4; x++)
                            {
                                int ix = ix0 + x;
                                d[4 * y + x] = (uint)iy < (uint)p.InputHeight && (uint)ix < (uint)p.InputWidth
                                    ? Load(inputPtr + (((nint)n * p.InputHeight + iy) * p.InputWidth + ix) * channels + c, count, lanes)
                                    : Vector256<float>.Zero;
                            }
                        }
                        // Bᵀ d: rows combine, then (Bᵀ d) B: columns combine.
                        for (int x = 0; x < 4; x++)
                        {
                            Vector256<float> d0 = d[x], d1 = d[4 + x], d2 = d[8 + x], d3 = d[12 + x];
                            d[x] = d0 - d2;
                            d[4 + x] = d1 + d2;
                            d[8 + x] = d2 - d1;
                            d[12 + x] = d1 - d3;
                        }
                        float* o = outputPtr + (nint)t * channels + c;
                        for (int y = 0; y < 4; y++)
                        {
                            Vector256<float> r0 = d[4 * y], r1 = d[4 * y + 1], r2 = d[4 * y + 2], r3 = d[4 * y + 3];
                            Store(r0 - r2, o + (4 * y + 0) * positionStride, count);
                            Store(r1 + r2, o + (4 * y + 1) * positionStride, count);
                            Store(r2 - r1, o + (4 * y + 2) * positionStride, count);
                            Store(r1 - r3, o + (4 * y + 3) * positionStride, count);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Transforms the GEMM products of tile rows <paramref name="tileRows"/> back to output pixels:
    /// <c>Y = Aᵀ m A</c> with <c>Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]</c>, then
    /// <c>output = act(Y + bias + residual)</c>; pixels past the output's last row or column are dropped.
    /// </summary>
    /// <param name="products">The 16 GEMM products, position-major, <c>tiles × outChannels</c> each.</param>
    /// <param name="bias">One value per output channel, or empty for none.</param>
    /// <param name="residual">A tensor of the output's shape added before the activation, or empty for none.</param>
    /// <param name="output">NHWC output.</param>
    /// <param name="p">Shapes.</param>
    /// <param name="activation">Fused epilogue.</param>
    /// <param name="tileRows">The tile rows to write.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void TransformOutput<TActivation>(ReadOnlySpan<float> products, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual,
                                                           Span<float> output, in Conv2DParams p, TActivation activation, RowRange tileRows)
        where TActivation : struct, IActivation
    {
        Check(p);
        int filters = p.OutputChannels, tileRowsPerImage = TileRows(p), tileColumns = TileColumns(p), tiles = TileCount(p);
        long outputLength = (long)p.Batch * p.OutputHeight * p.OutputWidth * filters;
        if (products.Length < (long)Positions * tiles * filters)
            throw new ArgumentException($"Products hold {products.Length} values, fewer than 16 × {tiles} × {filters}.", nameof(products));
        if (output.Length < outputLength) throw new ArgumentException($"Output has {output.Length} values, fewer than {p}.", nameof(output));
        if (!residual.IsEmpty && residual.Length < outputLength)
            throw new ArgumentException($"Residual has {residual.Length} values, fewer than {p}.", nameof(residual));
        if (!bias.IsEmpty && bias.Length < filters) throw new ArgumentException($"Bias has {bias.Length} values for {filters} channels.", nameof(bias));
        if (tileRows.Start < 0 || tileRows.End > TileRowCount(p)) throw new ArgumentOutOfRangeException(nameof(tileRows));
        nint positionStride = (nint)tiles * filters;
        var m = stackalloc Vector256<float>[8];
        float* lanes = stackalloc float[8];
        fixed (float* productsPtr = products, biasPtr = bias, residualPtr = residual, outputPtr = output)
        {
            for (int row = tileRows.Start; row < tileRows.End; row++)
            {
                int n = row / tileRowsPerImage, ty = row - n * tileRowsPerImage;
                int rows = Math.Min(2, p.OutputHeight - 2 * ty);
                for (int tx = 0; tx < tileColumns; tx++)
                {
                    int t = row * tileColumns + tx, columns = Math.Min(2, p.OutputWidth - 2 * tx);
                    for (int f = 0; f < filters; f += 8)
                    {
                        int count = Math.Min(8, filters - f);
                        float* s = productsPtr + (nint)t * filters + f;
                        // Aᵀ m: two rows of four, each a sum over the 4x4 products' rows.
                        for (int x = 0; x < 4; x++)
                        {
                            var m0 = Load(s + (0 + x) * positionStride, count, lanes);
                            var m1 = Load(s + (4 + x) * positionStride, count, lanes);
                            var m2 = Load(s + (8 + x) * positionStride, count, lanes);
                            var m3 = Load(s + (12 + x) * positionStride, count, lanes);
                            m[x] = m0 + m1 + m2;
                            m[4 + x] = m1 - m2 - m3;
                        }
                        var b = biasPtr == null ? Vector256<float>.Zero : Load(biasPtr + f, count, lanes);
                        for (int y = 0; y < rows; y++)
                        {
                            Vector256<float> r0 = m[4 * y], r1 = m[4 * y + 1], r2 = m[4 * y + 2], r3 = m[4 * y + 3];
                            nint pixel = ((nint)n * p.OutputHeight + 2 * ty + y) * p.OutputWidth + 2 * tx;
                            for (int x = 0; x < columns; x++)
                            {
                                var v = (x == 0 ? r0 + r1 + r2 : r1 - r2 - r3) + b;
                                nint at = (pixel + x) * filters + f;
                                if (residualPtr != null) v += Load(residualPtr + at, count, lanes);
                                Store(activation.Invoke(v), outputPtr + at, count);
                            }
                        }
                    }
                }
            }
        }
    }

    private static void Check(in Conv2DParams p)
    {
        if (p.KernelHeight != 3 || p.KernelWidth != 3 || p.StrideHeight != 1 || p.StrideWidth != 1 || p.DilationHeight != 1 || p.DilationWidth != 1)
            throw new ArgumentException($"Winograd F(2x2, 3x3) needs a 3x3 stride-1 undilated kernel: {p}.", nameof(p));
        Conv2DKernels.CheckWindows(p);
        if (WindowChecks.Count(p.Batch, (p.OutputHeight + 1) / 2, (p.OutputWidth + 1) / 2) > int.MaxValue / Positions)
            throw new ArgumentException($"The tiles of {p} do not fit 32-bit counts.", nameof(p));
    }

    /// <summary>Loads <paramref name="count"/> (1..8) lanes, the rest zero; a short load goes through <paramref name="lanes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Load(float* source, int count, float* lanes)
    {
        if (count == 8) return Vector256.Load(source);
        for (int i = 0; i < 8; i++) lanes[i] = i < count ? source[i] : 0f;
        return Vector256.Load(lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(Vector256<float> value, float* target, int count)
    {
        if (count == 8)
        {
            Vector256.Store(value, target);
            return;
        }
        for (int i = 0; i < count; i++) target[i] = value.GetElement(i);
    }
}
