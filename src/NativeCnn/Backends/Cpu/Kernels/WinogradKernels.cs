using System.Runtime.CompilerServices;
using NativeCnn.Backends.Cpu.Simd;

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
    /// <param name="input">NHWC input.</param>
    /// <param name="transformed">The 16 transformed positions, position-major, <c>tiles × inChannels</c> each.</param>
    /// <param name="p">Shapes; a 3x3 stride-1 undilated kernel.</param>
    /// <param name="tileRows">The tile rows to transform.</param>
    /// <param name="width">The SIMD width to run at.</param>
    /// <exception cref="ArgumentException">The kernel is not 3x3 stride 1, or a span is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The tile rows lie outside the map.</exception>
    public static void TransformInput(ReadOnlySpan<float> input, Span<float> transformed, in Conv2DParams p, RowRange tileRows,
                                      SimdWidth width = SimdWidth.Auto)
    {
        Check(p);
        long tiles = TileCount(p);
        if (input.Length < WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.InputChannels))
            throw new ArgumentException($"Input has {input.Length} values, fewer than {p}.", nameof(input));
        if (transformed.Length < Positions * tiles * p.InputChannels)
            throw new ArgumentException($"Output has {transformed.Length} values, fewer than 16 × {tiles} × {p.InputChannels}.", nameof(transformed));
        if (tileRows.Start < 0 || tileRows.End > TileRowCount(p)) throw new ArgumentOutOfRangeException(nameof(tileRows));
        var call = new InputCall { Input = input, Transformed = transformed, Shape = p, TileRows = tileRows };
        SimdDispatch.Run(width, ref call);
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
    /// <param name="width">The SIMD width to run at.</param>
    /// <exception cref="ArgumentException">The kernel is not 3x3 stride 1, or a span is too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The tile rows lie outside the map.</exception>
    public static void TransformOutput<TActivation>(ReadOnlySpan<float> products, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual,
                                                    Span<float> output, in Conv2DParams p, TActivation activation, RowRange tileRows,
                                                    SimdWidth width = SimdWidth.Auto)
        where TActivation : struct, IActivation
    {
        Check(p);
        int filters = p.OutputChannels;
        long tiles = TileCount(p), outputLength = WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, filters);
        if (products.Length < Positions * tiles * filters)
            throw new ArgumentException($"Products hold {products.Length} values, fewer than 16 × {tiles} × {filters}.", nameof(products));
        if (output.Length < outputLength) throw new ArgumentException($"Output has {output.Length} values, fewer than {p}.", nameof(output));
        if (!residual.IsEmpty && residual.Length < outputLength)
            throw new ArgumentException($"Residual has {residual.Length} values, fewer than {p}.", nameof(residual));
        if (!bias.IsEmpty && bias.Length < filters) throw new ArgumentException($"Bias has {bias.Length} values for {filters} channels.", nameof(bias));
        if (tileRows.Start < 0 || tileRows.End > TileRowCount(p)) throw new ArgumentOutOfRangeException(nameof(tileRows));
        var call = new OutputCall<TActivation>
        {
            Products = products, Bias = bias, Residual = residual, Output = output, Shape = p, Activation = activation, TileRows = tileRows,
        };
        SimdDispatch.Run(width, ref call);
    }

    private ref struct InputCall : ISimdKernel
    {
        public ReadOnlySpan<float> Input;
        public Span<float> Transformed;
        public Conv2DParams Shape;
        public RowRange TileRows;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TransformInput<TLanes, TVector>(Input, Transformed, Shape, TileRows);
    }

    private ref struct OutputCall<TActivation> : ISimdKernel where TActivation : struct, IActivation
    {
        public ReadOnlySpan<float> Products, Bias, Residual;
        public Span<float> Output;
        public Conv2DParams Shape;
        public TActivation Activation;
        public RowRange TileRows;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TransformOutput<TLanes, TVector, TActivation>(Products, Bias, Residual, Output, Shape, Activation, TileRows);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void TransformInput<TLanes, TVector>(ReadOnlySpan<float> input, Span<float> transformed, in Conv2DParams p, RowRange tileRows)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        int channels = p.InputChannels, tileRowsPerImage = TileRows(p), tileColumns = TileColumns(p), tiles = TileCount(p), lanes = TLanes.Count;
        nint positionStride = (nint)tiles * channels;
        var d = stackalloc TVector[16];
        fixed (float* inputPtr = input, outputPtr = transformed)
        {
            for (int row = tileRows.Start; row < tileRows.End; row++)
            {
                int n = row / tileRowsPerImage, ty = row - n * tileRowsPerImage;
                for (int tx = 0; tx < tileColumns; tx++)
                {
                    int t = row * tileColumns + tx, iy0 = 2 * ty - p.PadTop, ix0 = 2 * tx - p.PadLeft;
                    for (int c = 0; c < channels; c += lanes)
                    {
                        int count = Math.Min(lanes, channels - c);
                        for (int y = 0; y < 4; y++)
                        {
                            int iy = iy0 + y;
                            for (int x = 0; x < 4; x++)
                            {
                                int ix = ix0 + x;
                                d[4 * y + x] = (uint)iy < (uint)p.InputHeight && (uint)ix < (uint)p.InputWidth
                                    ? Load<TLanes, TVector>(inputPtr + (((nint)n * p.InputHeight + iy) * p.InputWidth + ix) * channels + c, count)
                                    : TLanes.Zero;
                            }
                        }
                        // Bᵀ d: rows combine, then (Bᵀ d) B: columns combine.
                        for (int x = 0; x < 4; x++)
                        {
                            TVector d0 = d[x], d1 = d[4 + x], d2 = d[8 + x], d3 = d[12 + x];
                            d[x] = TLanes.Subtract(d0, d2);
                            d[4 + x] = TLanes.Add(d1, d2);
                            d[8 + x] = TLanes.Subtract(d2, d1);
                            d[12 + x] = TLanes.Subtract(d1, d3);
                        }
                        float* o = outputPtr + (nint)t * channels + c;
                        for (int y = 0; y < 4; y++)
                        {
                            TVector r0 = d[4 * y], r1 = d[4 * y + 1], r2 = d[4 * y + 2], r3 = d[4 * y + 3];
                            Store<TLanes, TVector>(TLanes.Subtract(r0, r2), o + (4 * y + 0) * positionStride, count);
                            Store<TLanes, TVector>(TLanes.Add(r1, r2), o + (4 * y + 1) * positionStride, count);
                            Store<TLanes, TVector>(TLanes.Subtract(r2, r1), o + (4 * y + 2) * positionStride, count);
                            Store<TLanes, TVector>(TLanes.Subtract(r1, r3), o + (4 * y + 3) * positionStride, count);
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void TransformOutput<TLanes, TVector, TActivation>(ReadOnlySpan<float> products, ReadOnlySpan<float> bias,
                                                                            ReadOnlySpan<float> residual, Span<float> output, in Conv2DParams p,
                                                                            TActivation activation, RowRange tileRows)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation
    {
        int filters = p.OutputChannels, tileRowsPerImage = TileRows(p), tileColumns = TileColumns(p), tiles = TileCount(p), lanes = TLanes.Count;
        nint positionStride = (nint)tiles * filters;
        var m = stackalloc TVector[8];
        fixed (float* productsPtr = products, biasPtr = bias, residualPtr = residual, outputPtr = output)
        {
            for (int row = tileRows.Start; row < tileRows.End; row++)
            {
                int n = row / tileRowsPerImage, ty = row - n * tileRowsPerImage;
                int rows = Math.Min(2, p.OutputHeight - 2 * ty);
                for (int tx = 0; tx < tileColumns; tx++)
                {
                    int t = row * tileColumns + tx, columns = Math.Min(2, p.OutputWidth - 2 * tx);
                    for (int f = 0; f < filters; f += lanes)
                    {
                        int count = Math.Min(lanes, filters - f);
                        float* s = productsPtr + (nint)t * filters + f;
                        // Aᵀ m: two rows of four, each a sum over the 4x4 products' rows.
                        for (int x = 0; x < 4; x++)
                        {
                            var m0 = Load<TLanes, TVector>(s + (0 + x) * positionStride, count);
                            var m1 = Load<TLanes, TVector>(s + (4 + x) * positionStride, count);
                            var m2 = Load<TLanes, TVector>(s + (8 + x) * positionStride, count);
                            var m3 = Load<TLanes, TVector>(s + (12 + x) * positionStride, count);
                            m[x] = TLanes.Add(TLanes.Add(m0, m1), m2);
                            m[4 + x] = TLanes.Subtract(TLanes.Subtract(m1, m2), m3);
                        }
                        var b = biasPtr == null ? TLanes.Zero : Load<TLanes, TVector>(biasPtr + f, count);
                        for (int y = 0; y < rows; y++)
                        {
                            TVector r0 = m[4 * y], r1 = m[4 * y + 1], r2 = m[4 * y + 2], r3 = m[4 * y + 3];
                            nint pixel = ((nint)n * p.OutputHeight + 2 * ty + y) * p.OutputWidth + 2 * tx;
                            for (int x = 0; x < columns; x++)
                            {
                                var v = TLanes.Add(x == 0 ? TLanes.Add(TLanes.Add(r0, r1), r2) : TLanes.Subtract(TLanes.Subtract(r1, r2), r3), b);
                                nint at = (pixel + x) * filters + f;
                                if (residualPtr != null) v = TLanes.Add(v, Load<TLanes, TVector>(residualPtr + at, count));
                                Store<TLanes, TVector>(activation.Invoke<TLanes, TVector>(v), outputPtr + at, count);
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

    /// <summary><paramref name="count"/> lanes (1..Count), the rest zero, reading nothing past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe TVector Load<TLanes, TVector>(float* source, int count) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        => count == TLanes.Count ? TLanes.Load(source) : TLanes.LoadFirst(source, count);

    /// <summary>Stores the first <paramref name="count"/> lanes (1..Count), writing nothing past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store<TLanes, TVector>(TVector value, float* target, int count) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        if (count == TLanes.Count) TLanes.Store(target, value);
        else TLanes.StoreFirst(target, value, count);
    }
}
