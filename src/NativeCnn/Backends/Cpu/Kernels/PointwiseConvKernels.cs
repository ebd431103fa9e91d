using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Shapes of one pointwise (1x1, stride 1, unpadded) convolution: a GEMM <c>(Pixels × InputChannels) · (InputChannels × OutputChannels)</c>.</summary>
public readonly record struct PointwiseConvParams(int Pixels, int InputChannels, int OutputChannels);

/// <summary>
/// Pointwise convolutions as a packed GEMM, the way BLIS and oneDNN's "gemm" convolutions run them. Pixels are rows of
/// the NHWC input (row stride <c>InputChannels</c>, read in place), the kernel comes prepacked in panels
/// (<see cref="PackedPointwiseWeights"/>). The micro-kernel keeps a tile of <see cref="RowsPerTile512"/> pixels × one
/// 32-channel panel (24 of the 32 zmm registers) in registers, broadcasting one input value per pixel against two
/// contiguous panel vectors per input channel (one vector when the panel holds at most 16 channels). The epilogue runs
/// on the tile while it is in registers: bias (the accumulators start from it), an optional residual, then a
/// piecewise-linear activation or, on 16-lane vectors, swish (other transcendental ones run over each finished pixel
/// chunk instead, see <c>InRegisters</c>); the last panel's padding lanes are masked out of every load and store, and pixel tails run the
/// same micro-kernel instantiated for fewer rows. Pixels are taken in L2-sized chunks, every panel of the call passing
/// over a chunk before the next.
/// </summary>
public static class PointwiseConvKernels
{
    /// <summary>Pixels per micro-kernel tile of the 16-lane path (12 × 2 vectors = 24 accumulators).</summary>
    internal const int RowsPerTile512 = 12;

    /// <summary>Pixels per micro-kernel tile of the 8-lane path (6 × 2 vectors = 12 of AVX2's 16 registers).</summary>
    internal const int RowsPerTile256 = 6;

    /// <summary>
    /// Pixels per work block that keep every width's tiles whole: callers that split pixels across threads should cut
    /// at multiples of it.
    /// </summary>
    public const int PixelBlock = 12;

    /// <summary>Bytes of input a block of pixels may span so it stays in L2 while every panel of a call passes over it.</summary>
    private const int ChunkBytes = 128 * 1024;

    /// <summary>Bytes of output a block of pixels may span, so that it is still in L2 when a deferred activation runs.</summary>
    private const int OutputChunkBytes = 512 * 1024;

    /// <summary>
    /// Computes pixels <paramref name="pixels"/> × panels <paramref name="panels"/> (indices into
    /// <see cref="PackedPointwiseWeights.PanelCount"/>) of
    /// <c>output[m, f] = act(bias[f] + residual[m, f] + Σ_c input[m, c] · kernel[c, f])</c>.
    /// </summary>
    /// <param name="input">NHWC input, <c>Pixels × InputChannels</c>.</param>
    /// <param name="weights">The kernel and bias, packed for this machine's width (the public constructor).</param>
    /// <param name="residual">A tensor of the output's shape added before the activation, or empty for none.</param>
    /// <param name="output">NHWC output, <c>Pixels × OutputChannels</c>.</param>
    /// <param name="p">Shapes.</param>
    /// <param name="activation">Fused epilogue.</param>
    /// <param name="pixels">The output pixels to compute.</param>
    /// <param name="panels">The output-channel panels to compute.</param>
    /// <param name="inputScale">
    /// Optional <c>images × InputChannels</c> scales applied to the input channels of each image first,
    /// <c>input[m, c] · inputScale[image(m), c]</c> (squeeze-and-excitation's excitation): each kernel row is scaled as it
    /// streams through the micro-kernel, one multiply per input channel and vector instead of a pass over the input.
    /// </param>
    /// <param name="pixelsPerImage">Pixels of one image when <paramref name="inputScale"/> is given; pixel 0 starts image 0.</param>
    public static void Nhwc<TActivation>(ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual,
                                         Span<float> output, in PointwiseConvParams p, TActivation activation, RowRange pixels, RowRange panels,
                                         ReadOnlySpan<float> inputScale = default, int pixelsPerImage = 0)
        where TActivation : struct, IActivation
    {
        if (Vector512.IsHardwareAccelerated) NhwcVector512(input, weights, residual, output, p, activation, pixels, panels, inputScale, pixelsPerImage);
        else if (Vector256.IsHardwareAccelerated) NhwcVector256(input, weights, residual, output, p, activation, pixels, panels, inputScale, pixelsPerImage);
        else NhwcScalar(input, weights, residual, output, p, activation, pixels, panels, inputScale, pixelsPerImage);
    }

    /// <summary><see cref="Nhwc"/> with 12 × 32 tiles of 16-lane vectors; needs 32-wide panels.</summary>
    internal static void NhwcVector512<TActivation>(ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual,
                                                    Span<float> output, in PointwiseConvParams p, TActivation activation,
                                                    RowRange pixels, RowRange panels, ReadOnlySpan<float> inputScale = default, int pixelsPerImage = 0)
        where TActivation : struct, IActivation
    {
        if (inputScale.IsEmpty) Run(input, weights, residual, output, p, pixels, panels, new Tiles512<TActivation, Unscaled>(activation), default, 0);
        else Run(input, weights, residual, output, p, pixels, panels, new Tiles512<TActivation, Scaled>(activation), inputScale, pixelsPerImage);
    }

    /// <summary><see cref="Nhwc"/> with 6 × 16 tiles of 8-lane vectors; needs 16-wide panels.</summary>
    internal static void NhwcVector256<TActivation>(ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual,
                                                    Span<float> output, in PointwiseConvParams p, TActivation activation,
                                                    RowRange pixels, RowRange panels, ReadOnlySpan<float> inputScale = default, int pixelsPerImage = 0)
        where TActivation : struct, IActivation
    {
        if (inputScale.IsEmpty) Run(input, weights, residual, output, p, pixels, panels, new Tiles256<TActivation, Unscaled>(activation), default, 0);
        else Run(input, weights, residual, output, p, pixels, panels, new Tiles256<TActivation, Scaled>(activation), inputScale, pixelsPerImage);
    }

    /// <summary><see cref="Nhwc"/> in scalar code, for machines without 256-bit vectors; needs 16-wide panels.</summary>
    internal static void NhwcScalar<TActivation>(ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual,
                                                 Span<float> output, in PointwiseConvParams p, TActivation activation,
                                                 RowRange pixels, RowRange panels, ReadOnlySpan<float> inputScale = default, int pixelsPerImage = 0)
        where TActivation : struct, IActivation
        => Run(input, weights, residual, output, p, pixels, panels, new TilesScalar<TActivation>(activation), inputScale, pixelsPerImage);

    // The micro-kernels are small methods called once per tile, so they would start as Tier0 code (every vector on the
    // stack) and wait for call counting to promote them on a background thread, which a busy machine starves for
    // seconds: they and this driver are compiled fully optimized from the first call instead.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Run<TTiles>(ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual,
                                           Span<float> output, in PointwiseConvParams p, RowRange pixels, RowRange panels, TTiles tiles,
                                           ReadOnlySpan<float> inputScale, int pixelsPerImage)
        where TTiles : struct, ITiles
    {
        Validate(input, weights, residual, output, p, pixels, panels, TTiles.PanelWidth);
        bool scaled = !inputScale.IsEmpty;
        if (scaled) ValidateScale(inputScale, p, pixelsPerImage);
        if (pixels.Count == 0 || panels.Count == 0) return;
        int k = p.InputChannels, n = p.OutputChannels, rowsPerTile = TTiles.Rows;
        // Pixels are taken in chunks whose input stays in L2 while every panel passes over it, so each panel (k × width
        // values, streamed from L1/L2) is reused by all the chunk's tiles and the input is read from memory once.
        // The chunk's output stays in L2 too, for the activations applied after the tiles (see InRegisters).
        int chunk = Math.Max(rowsPerTile, Math.Min(ChunkBytes / k, OutputChunkBytes / n) / sizeof(float) / rowsPerTile * rowsPerTile);
        fixed (float* inputPtr = input, residualPtr = residual, outputPtr = output, scalePtr = inputScale)
        {
            float* packed = weights.Panels, bias = weights.Bias;
            for (int m0 = pixels.Start, m1; m0 < pixels.End; m0 = m1)
            {
                m1 = Math.Min(pixels.End, m0 + chunk);
                int image = scaled ? m0 / pixelsPerImage : 0;
                // Scaled input: a chunk stays inside one image, whose scales every tile of it reads.
                if (scaled) m1 = Math.Min(m1, (image + 1) * pixelsPerImage);
                for (int panel = panels.Start; panel < panels.End; panel++)
                {
                    int column = panel * TTiles.PanelWidth, valid = Math.Min(TTiles.PanelWidth, n - column);
                    var tile = Tile.Pointwise(packed + (nint)panel * k * TTiles.PanelWidth, bias + column,
                                              scaled ? scalePtr + (nint)image * k : null, k, n, valid);
                    int m = m0;
                    for (; m + rowsPerTile <= m1; m += rowsPerTile)
                        tiles.Full(tile, At(inputPtr, m, k, 0), At(residualPtr, m, n, column), At(outputPtr, m, n, column));
                    if (m < m1)
                        tiles.Partial(tile, m1 - m, At(inputPtr, m, k, 0), At(residualPtr, m, n, column), At(outputPtr, m, n, column));
                }
                if (!tiles.DefersActivation) continue;
                int first = panels.Start * TTiles.PanelWidth, end = Math.Min(n, panels.End * TTiles.PanelWidth);
                if (first == 0 && end == n)
                    tiles.Activate(new Span<float>(At(outputPtr, m0, n, 0), (m1 - m0) * n));
                else
                    for (int m = m0; m < m1; m++) tiles.Activate(new Span<float>(At(outputPtr, m, n, first), end - first));
            }
        }
    }

    /// <summary>
    /// Computes output rows <paramref name="outputRows"/> (of <c>Batch × OutputHeight</c>) × panels
    /// <paramref name="panels"/> of a KxK convolution with the same packed micro-kernels, reading every output pixel's
    /// window straight from the input instead of from gathered patches. A tile's pixels are consecutive in one output
    /// row, so their windows start <c>StrideWidth × InputChannels</c> values apart, and a window's depth (HWIO order)
    /// is <c>KernelHeight</c> runs of <c>KernelWidth × InputChannels</c> contiguous input values, one per input row.
    /// </summary>
    /// <param name="input">NHWC input, already padded: <paramref name="p"/> has no padding.</param>
    /// <param name="weights">The <c>KernelHeight·KernelWidth·InputChannels × OutputChannels</c> kernel and bias, packed.</param>
    /// <param name="residual">A tensor of the output's shape added before the activation, or empty for none.</param>
    /// <param name="output">NHWC output.</param>
    /// <param name="p">Shapes and window arithmetic; undilated along the width, no padding.</param>
    /// <param name="activation">Fused epilogue.</param>
    /// <param name="outputRows">The output rows to compute.</param>
    /// <param name="panels">The output-channel panels to compute.</param>
    public static void NhwcWindows<TActivation>(ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual,
                                                Span<float> output, in Conv2DParams p, TActivation activation, RowRange outputRows, RowRange panels)
        where TActivation : struct, IActivation
    {
        if (Vector512.IsHardwareAccelerated) RunWindows(input, weights, residual, output, p, outputRows, panels, new Tiles512<TActivation, Unscaled>(activation));
        else if (Vector256.IsHardwareAccelerated) RunWindows(input, weights, residual, output, p, outputRows, panels, new Tiles256<TActivation, Unscaled>(activation));
        else RunWindows(input, weights, residual, output, p, outputRows, panels, new TilesScalar<TActivation>(activation));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunWindows<TTiles>(ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual,
                                                  Span<float> output, in Conv2DParams p, RowRange outputRows, RowRange panels, TTiles tiles)
        where TTiles : struct, ITiles
    {
        ValidateWindows(input, weights, residual, output, p, outputRows, panels, TTiles.PanelWidth);
        if (outputRows.Count == 0 || panels.Count == 0) return;
        int c = p.InputChannels, n = p.OutputChannels, width = p.OutputWidth, depth = weights.InputChannels;
        nint inputRow = (nint)p.InputWidth * c, pixelStride = (nint)p.StrideWidth * c;
        // A row splits into tiles of near-equal size (112 pixels: 8 × 11 + 2 × 12 rather than 9 × 12 + 4), since a
        // short tile costs almost as much as a full one.
        int tileCount = (width + TTiles.Rows - 1) / TTiles.Rows, shortTile = width / tileCount, longTiles = width % tileCount;
        fixed (float* inputPtr = input, residualPtr = residual, outputPtr = output)
        {
            for (int row = outputRows.Start; row < outputRows.End; row++)
            {
                int image = row / p.OutputHeight, oy = row - image * p.OutputHeight;
                float* window = inputPtr + ((nint)image * p.InputHeight + (nint)oy * p.StrideHeight) * inputRow;
                for (int panel = panels.Start; panel < panels.End; panel++)
                {
                    int column = panel * TTiles.PanelWidth;
                    var tile = new Tile
                    {
                        Panel = weights.Panels + (nint)panel * depth * TTiles.PanelWidth,
                        Bias = weights.Bias + column,
                        InputChannels = depth,
                        OutputChannels = n,
                        ValidColumns = Math.Min(TTiles.PanelWidth, n - column),
                        RowStride = pixelStride,
                        Segments = p.KernelHeight,
                        SegmentLength = p.KernelWidth * c,
                        SegmentStride = p.DilationHeight * inputRow,
                    };
                    for (int t = 0, x = 0; t < tileCount; t++)
                    {
                        int pixels = t < longTiles ? shortTile + 1 : shortTile, m = row * width + x;
                        float* a = window + x * pixelStride;
                        if (pixels == TTiles.Rows) tiles.Full(tile, a, At(residualPtr, m, n, column), At(outputPtr, m, n, column));
                        else tiles.Partial(tile, pixels, a, At(residualPtr, m, n, column), At(outputPtr, m, n, column));
                        x += pixels;
                    }
                }
                if (!tiles.DefersActivation) continue;
                int first = panels.Start * TTiles.PanelWidth, end = Math.Min(n, panels.End * TTiles.PanelWidth);
                if (first == 0 && end == n)
                    tiles.Activate(new Span<float>(At(outputPtr, row * width, n, 0), width * n));
                else
                    for (int m = row * width; m < (row + 1) * width; m++) tiles.Activate(new Span<float>(At(outputPtr, m, n, first), end - first));
            }
        }
    }

    private static void ValidateWindows(ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual,
                                        ReadOnlySpan<float> output, in Conv2DParams p, RowRange outputRows, RowRange panels, int panelWidth)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (p.PadTop != 0 || p.PadLeft != 0) throw new ArgumentException($"The input must come padded: {p}.", nameof(p));
        if (p.DilationWidth != 1) throw new ArgumentException($"Windows must be contiguous along the width: {p}.", nameof(p));
        if (p.Batch < 0 || p.OutputHeight < 1 || p.OutputWidth < 1 || p.StrideHeight < 1 || p.StrideWidth < 1 || p.DilationHeight < 1)
            throw new ArgumentException($"Invalid convolution shape: {p}.", nameof(p));
        Conv2DKernels.CheckWindows(p);
        if ((long)(p.OutputWidth - 1) * p.StrideWidth + p.KernelWidth > p.InputWidth
            || (long)(p.OutputHeight - 1) * p.StrideHeight + (long)(p.KernelHeight - 1) * p.DilationHeight + 1 > p.InputHeight)
            throw new ArgumentException($"Windows reach past the input: {p}.", nameof(p));
        if (weights.InputChannels != WindowChecks.Count(p.KernelHeight, p.KernelWidth, p.InputChannels) || weights.OutputChannels != p.OutputChannels)
            throw new ArgumentException($"Weights are {weights.InputChannels} → {weights.OutputChannels} channels, not {p}.", nameof(weights));
        if (weights.PanelWidth != panelWidth)
            throw new ArgumentException($"Weights are packed in {weights.PanelWidth}-wide panels, this kernel reads {panelWidth}.", nameof(weights));
        long outputLength = WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.OutputChannels);
        if (input.Length < WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.InputChannels))
            throw new ArgumentException($"Input has {input.Length} values, fewer than {p}.", nameof(input));
        if (output.Length < outputLength) throw new ArgumentException($"Output has {output.Length} values, fewer than {p}.", nameof(output));
        if (!residual.IsEmpty && residual.Length < outputLength)
            throw new ArgumentException($"Residual has {residual.Length} values, fewer than {p}.", nameof(residual));
        if (outputRows.Start < 0 || outputRows.End > p.RowCount || outputRows.Count < 0)
            throw new ArgumentOutOfRangeException(nameof(outputRows), $"Rows {outputRows} outside [0, {p.RowCount}).");
        if (panels.Start < 0 || panels.End > weights.PanelCount || panels.Count < 0)
            throw new ArgumentOutOfRangeException(nameof(panels), $"Panels {panels} outside [0, {weights.PanelCount}).");
    }

    /// <summary>Element <c>[row, column]</c> of a row-major matrix, or null for an absent (empty) one.</summary>
    private static unsafe float* At(float* matrix, int row, int rowLength, int column)
        => matrix == null ? null : matrix + (nint)row * rowLength + column;

    private static void Validate(ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual,
                                 ReadOnlySpan<float> output, in PointwiseConvParams p, RowRange pixels, RowRange panels, int panelWidth)
    {
        // The kernels index through raw pointers, so every extent is checked once here instead of on every load.
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.InputChannels != p.InputChannels || weights.OutputChannels != p.OutputChannels)
            throw new ArgumentException($"Weights are {weights.InputChannels} → {weights.OutputChannels} channels, not {p}.", nameof(weights));
        if (weights.PanelWidth != panelWidth)
            throw new ArgumentException($"Weights are packed in {weights.PanelWidth}-wide panels, this kernel reads {panelWidth}.", nameof(weights));
        if (p.Pixels < 0) throw new ArgumentException($"Negative pixel count: {p}.", nameof(p));
        if (input.Length < (long)p.Pixels * p.InputChannels)
            throw new ArgumentException($"Input has {input.Length} values, fewer than {p}.", nameof(input));
        if (output.Length < (long)p.Pixels * p.OutputChannels)
            throw new ArgumentException($"Output has {output.Length} values, fewer than {p}.", nameof(output));
        if (!residual.IsEmpty && residual.Length < (long)p.Pixels * p.OutputChannels)
            throw new ArgumentException($"Residual has {residual.Length} values, fewer than {p}.", nameof(residual));
        if (pixels.Start < 0 || pixels.End > p.Pixels || pixels.Count < 0)
            throw new ArgumentOutOfRangeException(nameof(pixels), $"Pixels {pixels} outside [0, {p.Pixels}).");
        if (panels.Start < 0 || panels.End > weights.PanelCount || panels.Count < 0)
            throw new ArgumentOutOfRangeException(nameof(panels), $"Panels {panels} outside [0, {weights.PanelCount}).");
    }

    private static void ValidateScale(ReadOnlySpan<float> inputScale, in PointwiseConvParams p, int pixelsPerImage)
    {
        if (pixelsPerImage <= 0 || p.Pixels % pixelsPerImage != 0)
            throw new ArgumentOutOfRangeException(nameof(pixelsPerImage), $"{pixelsPerImage} pixels per image do not divide {p}.");
        long images = p.Pixels / pixelsPerImage;
        if (inputScale.Length < images * p.InputChannels)
            throw new ArgumentException($"Input scales have {inputScale.Length} values, fewer than {images} images × {p.InputChannels} channels.", nameof(inputScale));
    }

    /// <summary>
    /// One panel's pointers and extents; <c>ValidColumns</c> is below the panel width only on the last panel, and
    /// <c>Scale</c> (the image's input-channel scales) is null when the input is not scaled.
    /// </summary>
    private unsafe struct Tile
    {
        public float* Panel;
        public float* Bias;
        public float* Scale;
        public int InputChannels;
        public int OutputChannels;
        public int ValidColumns;

        /// <summary>Values between two consecutive pixels' inputs (<c>InputChannels</c> for a pointwise GEMM).</summary>
        public nint RowStride;

        /// <summary>
        /// The depth comes in <c>Segments</c> runs of <c>SegmentLength</c> contiguous values, <c>SegmentStride</c> apart:
        /// one run for a pointwise GEMM, one per kernel row for a window read straight from the input.
        /// </summary>
        public int Segments;
        public int SegmentLength;
        public nint SegmentStride;

        /// <summary>A pointwise GEMM's tile: the depth is one run of <c>InputChannels</c> values per pixel.</summary>
        public static Tile Pointwise(float* panel, float* bias, float* scale, int inputChannels, int outputChannels, int validColumns)
            => new()
            {
                Panel = panel, Bias = bias, Scale = scale, InputChannels = inputChannels, OutputChannels = outputChannels,
                ValidColumns = validColumns, RowStride = inputChannels, Segments = 1, SegmentLength = inputChannels,
            };
    }

    /// <summary>
    /// One vector width's micro-kernels. <c>a</c> is the first pixel's input, <c>residual</c> (null for none) and
    /// <c>c</c> the first pixel's output at the panel's first channel; pixels are <c>InputChannels</c> /
    /// <c>OutputChannels</c> apart.
    /// </summary>
    private unsafe interface ITiles
    {
        /// <summary>Pixels per <see cref="Full"/> tile.</summary>
        static abstract int Rows { get; }

        /// <summary>Output channels per packed panel.</summary>
        static abstract int PanelWidth { get; }

        /// <summary><see cref="Rows"/> pixels.</summary>
        void Full(in Tile t, float* a, float* residual, float* c);

        /// <summary><paramref name="rows"/> pixels, fewer than <see cref="Rows"/>.</summary>
        void Partial(in Tile t, int rows, float* a, float* residual, float* c);

        /// <summary>Whether the tiles store raw sums, left for <see cref="Activate"/>.</summary>
        bool DefersActivation { get; }

        /// <summary>Applies the activation in place.</summary>
        void Activate(Span<float> values);
    }

    /// <summary>A compile-time count (rows, vectors): the micro-kernels test it against constants, and the JIT drops the dead code.</summary>
    private interface ICount
    {
        static abstract int Count { get; }
    }

    /// <summary>Whether the micro-kernels scale each kernel row by the image's input-channel scale (compile-time, like <see cref="ICount"/>).</summary>
    private interface IInputScaling
    {
        static abstract bool Enabled { get; }
    }

    private struct Unscaled : IInputScaling { public static bool Enabled => false; }
    private struct Scaled : IInputScaling { public static bool Enabled => true; }

    private struct Rows1 : ICount { public static int Count => 1; }
    private struct Rows2 : ICount { public static int Count => 2; }
    private struct Rows3 : ICount { public static int Count => 3; }
    private struct Rows4 : ICount { public static int Count => 4; }
    private struct Rows5 : ICount { public static int Count => 5; }
    private struct Rows6 : ICount { public static int Count => 6; }
    private struct Rows7 : ICount { public static int Count => 7; }
    private struct Rows8 : ICount { public static int Count => 8; }
    private struct Rows9 : ICount { public static int Count => 9; }
    private struct Rows10 : ICount { public static int Count => 10; }
    private struct Rows11 : ICount { public static int Count => 11; }
    private struct Rows12 : ICount { public static int Count => 12; }

    private readonly unsafe struct Tiles512<TActivation, TScaling>(TActivation activation) : ITiles
        where TActivation : struct, IActivation where TScaling : struct, IInputScaling
    {
        public static int Rows => RowsPerTile512;

        public static int PanelWidth => 32;

        public bool DefersActivation => !InRegisters<TActivation>(wideVectors: true);

        public void Activate(Span<float> values) => ElementwiseKernels.Apply(values, values, activation);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        public void Full(in Tile t, float* a, float* residual, float* c)
        {
            if (t.ValidColumns > 16) Kernel<Rows12, Rows2>(t, a, residual, c);
            else Kernel<Rows12, Rows1>(t, a, residual, c);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        public void Partial(in Tile t, int rows, float* a, float* residual, float* c)
        {
            if (t.ValidColumns > 16) Partial<Rows2>(t, rows, a, residual, c);
            else Partial<Rows1>(t, rows, a, residual, c);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        private void Partial<TVectors>(in Tile t, int rows, float* a, float* residual, float* c) where TVectors : struct, ICount
        {
            switch (rows)
            {
                case 1: Kernel<Rows1, TVectors>(t, a, residual, c); break;
                case 2: Kernel<Rows2, TVectors>(t, a, residual, c); break;
                case 3: Kernel<Rows3, TVectors>(t, a, residual, c); break;
                case 4: Kernel<Rows4, TVectors>(t, a, residual, c); break;
                case 5: Kernel<Rows5, TVectors>(t, a, residual, c); break;
                case 6: Kernel<Rows6, TVectors>(t, a, residual, c); break;
                case 7: Kernel<Rows7, TVectors>(t, a, residual, c); break;
                case 8: Kernel<Rows8, TVectors>(t, a, residual, c); break;
                case 9: Kernel<Rows9, TVectors>(t, a, residual, c); break;
                case 10: Kernel<Rows10, TVectors>(t, a, residual, c); break;
                default: Kernel<Rows11, TVectors>(t, a, residual, c); break;
            }
        }

        /// <summary>
        /// <typeparamref name="TRows"/> pixels × <typeparamref name="TVectors"/> vectors: a panel with at most 16 valid
        /// channels (16-channel layers, the last panel of 24 or 40) computes only its first vector.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Kernel<TRows, TVectors>(in Tile t, float* a, float* residual, float* c) where TRows : struct, ICount where TVectors : struct, ICount
        {
            int rows = TRows.Count;
            bool wide = TVectors.Count == 2;
            var bias0 = Vector512.Load(t.Bias);
            var bias1 = wide ? Vector512.Load(t.Bias + 16) : default;
            Vector512<float> c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1;
            Vector512<float> c30 = bias0, c31 = bias1, c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1;
            Vector512<float> c60 = bias0, c61 = bias1, c70 = bias0, c71 = bias1, c80 = bias0, c81 = bias1;
            Vector512<float> c90 = bias0, c91 = bias1, ca0 = bias0, ca1 = bias1, cb0 = bias0, cb1 = bias1;
            // Rows 0-3, 4-7 and 8-11 are addressed from three pointers with the strides 1, 2 and 3 rows in registers,
            // so every broadcast is one load with a scaled-index address and the loop advances only four pointers.
            nint s1 = t.RowStride, s2 = 2 * s1, s3 = 3 * s1;
            float* w = t.Panel, scale = t.Scale;
            for (int segment = 0; segment < t.Segments; segment++, a += t.SegmentStride)
            for (float* x0 = a, x4 = a + 4 * s1, x8 = a + 8 * s1, end = a + t.SegmentLength; x0 < end; x0++, x4++, x8++, w += 32)
            {
                var w0 = Vector512.Load(w);
                var w1 = wide ? Vector512.Load(w + 16) : default;
                if (TScaling.Enabled)
                {
                    var sc = Vector512.Create(*scale++);
                    w0 *= sc;
                    if (wide) w1 *= sc;
                }
                var v = Vector512.Create(*x0);
                c00 = Vector512.FusedMultiplyAdd(v, w0, c00);
                if (wide) c01 = Vector512.FusedMultiplyAdd(v, w1, c01);
                if (rows > 1)
                {
                    v = Vector512.Create(x0[s1]);
                    c10 = Vector512.FusedMultiplyAdd(v, w0, c10);
                    if (wide) c11 = Vector512.FusedMultiplyAdd(v, w1, c11);
                }
                if (rows > 2)
                {
                    v = Vector512.Create(x0[s2]);
                    c20 = Vector512.FusedMultiplyAdd(v, w0, c20);
                    if (wide) c21 = Vector512.FusedMultiplyAdd(v, w1, c21);
                }
                if (rows > 3)
                {
                    v = Vector512.Create(x0[s3]);
                    c30 = Vector512.FusedMultiplyAdd(v, w0, c30);
                    if (wide) c31 = Vector512.FusedMultiplyAdd(v, w1, c31);
                }
                if (rows > 4)
                {
                    v = Vector512.Create(*x4);
                    c40 = Vector512.FusedMultiplyAdd(v, w0, c40);
                    if (wide) c41 = Vector512.FusedMultiplyAdd(v, w1, c41);
                }
                if (rows > 5)
                {
                    v = Vector512.Create(x4[s1]);
                    c50 = Vector512.FusedMultiplyAdd(v, w0, c50);
                    if (wide) c51 = Vector512.FusedMultiplyAdd(v, w1, c51);
                }
                if (rows > 6)
                {
                    v = Vector512.Create(x4[s2]);
                    c60 = Vector512.FusedMultiplyAdd(v, w0, c60);
                    if (wide) c61 = Vector512.FusedMultiplyAdd(v, w1, c61);
                }
                if (rows > 7)
                {
                    v = Vector512.Create(x4[s3]);
                    c70 = Vector512.FusedMultiplyAdd(v, w0, c70);
                    if (wide) c71 = Vector512.FusedMultiplyAdd(v, w1, c71);
                }
                if (rows > 8)
                {
                    v = Vector512.Create(*x8);
                    c80 = Vector512.FusedMultiplyAdd(v, w0, c80);
                    if (wide) c81 = Vector512.FusedMultiplyAdd(v, w1, c81);
                }
                if (rows > 9)
                {
                    v = Vector512.Create(x8[s1]);
                    c90 = Vector512.FusedMultiplyAdd(v, w0, c90);
                    if (wide) c91 = Vector512.FusedMultiplyAdd(v, w1, c91);
                }
                if (rows > 10)
                {
                    v = Vector512.Create(x8[s2]);
                    ca0 = Vector512.FusedMultiplyAdd(v, w0, ca0);
                    if (wide) ca1 = Vector512.FusedMultiplyAdd(v, w1, ca1);
                }
                if (rows > 11)
                {
                    v = Vector512.Create(x8[s3]);
                    cb0 = Vector512.FusedMultiplyAdd(v, w0, cb0);
                    if (wide) cb1 = Vector512.FusedMultiplyAdd(v, w1, cb1);
                }
            }

            // Lanes past the last output channel belong to the next pixel (or past the buffer): they are masked out.
            var mask0 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(t.ValidColumns)).AsSingle();
            var mask1 = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(t.ValidColumns - 16)).AsSingle();
            nint ldc = t.OutputChannels;
            Store(c00, c01, wide, c, residual, mask0, mask1);
            if (rows > 1) Store(c10, c11, wide, c + ldc, Offset(residual, ldc), mask0, mask1);
            if (rows > 2) Store(c20, c21, wide, c + 2 * ldc, Offset(residual, 2 * ldc), mask0, mask1);
            if (rows > 3) Store(c30, c31, wide, c + 3 * ldc, Offset(residual, 3 * ldc), mask0, mask1);
            if (rows > 4) Store(c40, c41, wide, c + 4 * ldc, Offset(residual, 4 * ldc), mask0, mask1);
            if (rows > 5) Store(c50, c51, wide, c + 5 * ldc, Offset(residual, 5 * ldc), mask0, mask1);
            if (rows > 6) Store(c60, c61, wide, c + 6 * ldc, Offset(residual, 6 * ldc), mask0, mask1);
            if (rows > 7) Store(c70, c71, wide, c + 7 * ldc, Offset(residual, 7 * ldc), mask0, mask1);
            if (rows > 8) Store(c80, c81, wide, c + 8 * ldc, Offset(residual, 8 * ldc), mask0, mask1);
            if (rows > 9) Store(c90, c91, wide, c + 9 * ldc, Offset(residual, 9 * ldc), mask0, mask1);
            if (rows > 10) Store(ca0, ca1, wide, c + 10 * ldc, Offset(residual, 10 * ldc), mask0, mask1);
            if (rows > 11) Store(cb0, cb1, wide, c + 11 * ldc, Offset(residual, 11 * ldc), mask0, mask1);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store(Vector512<float> x0, Vector512<float> x1, bool wide, float* c, float* residual,
                           Vector512<float> mask0, Vector512<float> mask1)
        {
            if (residual != null)
            {
                x0 += Avx512F.MaskLoad(residual, mask0, Vector512<float>.Zero);
                if (wide) x1 += Avx512F.MaskLoad(residual + 16, mask1, Vector512<float>.Zero);
            }
            Avx512F.MaskStore(c, mask0, InRegisters<TActivation>(wideVectors: true) ? activation.Invoke(x0) : x0);
            if (wide) Avx512F.MaskStore(c + 16, mask1, InRegisters<TActivation>(wideVectors: true) ? activation.Invoke(x1) : x1);
        }
    }

    private readonly unsafe struct Tiles256<TActivation, TScaling>(TActivation activation) : ITiles
        where TActivation : struct, IActivation where TScaling : struct, IInputScaling
    {
        public static int Rows => RowsPerTile256;

        public static int PanelWidth => 16;

        public bool DefersActivation => !InRegisters<TActivation>(wideVectors: false);

        public void Activate(Span<float> values) => ElementwiseKernels.Apply(values, values, activation);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        public void Full(in Tile t, float* a, float* residual, float* c) => Kernel<Rows6>(t, a, residual, c);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        public void Partial(in Tile t, int rows, float* a, float* residual, float* c)
        {
            switch (rows)
            {
                case 1: Kernel<Rows1>(t, a, residual, c); break;
                case 2: Kernel<Rows2>(t, a, residual, c); break;
                case 3: Kernel<Rows3>(t, a, residual, c); break;
                case 4: Kernel<Rows4>(t, a, residual, c); break;
                default: Kernel<Rows5>(t, a, residual, c); break;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        private void Kernel<TRows>(in Tile t, float* a, float* residual, float* c) where TRows : struct, ICount
        {
            int rows = TRows.Count;
            var bias0 = Vector256.Load(t.Bias);
            var bias1 = Vector256.Load(t.Bias + 8);
            Vector256<float> c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1;
            Vector256<float> c30 = bias0, c31 = bias1, c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1;
            nint s1 = t.RowStride, s2 = 2 * s1;
            float* w = t.Panel, scale = t.Scale;
            for (int segment = 0; segment < t.Segments; segment++, a += t.SegmentStride)
            for (float* x0 = a, x3 = a + 3 * s1, end = a + t.SegmentLength; x0 < end; x0++, x3++, w += 16)
            {
                var w0 = Vector256.Load(w);
                var w1 = Vector256.Load(w + 8);
                if (TScaling.Enabled)
                {
                    var sc = Vector256.Create(*scale++);
                    w0 *= sc;
                    w1 *= sc;
                }
                var v = Vector256.Create(*x0);
                c00 = Vector256.FusedMultiplyAdd(v, w0, c00);
                c01 = Vector256.FusedMultiplyAdd(v, w1, c01);
                if (rows > 1)
                {
                    v = Vector256.Create(x0[s1]);
                    c10 = Vector256.FusedMultiplyAdd(v, w0, c10);
                    c11 = Vector256.FusedMultiplyAdd(v, w1, c11);
                }
                if (rows > 2)
                {
                    v = Vector256.Create(x0[s2]);
                    c20 = Vector256.FusedMultiplyAdd(v, w0, c20);
                    c21 = Vector256.FusedMultiplyAdd(v, w1, c21);
                }
                if (rows > 3)
                {
                    v = Vector256.Create(*x3);
                    c30 = Vector256.FusedMultiplyAdd(v, w0, c30);
                    c31 = Vector256.FusedMultiplyAdd(v, w1, c31);
                }
                if (rows > 4)
                {
                    v = Vector256.Create(x3[s1]);
                    c40 = Vector256.FusedMultiplyAdd(v, w0, c40);
                    c41 = Vector256.FusedMultiplyAdd(v, w1, c41);
                }
                if (rows > 5)
                {
                    v = Vector256.Create(x3[s2]);
                    c50 = Vector256.FusedMultiplyAdd(v, w0, c50);
                    c51 = Vector256.FusedMultiplyAdd(v, w1, c51);
                }
            }

            var mask0 = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(t.ValidColumns)).AsSingle();
            var mask1 = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(t.ValidColumns - 8)).AsSingle();
            nint ldc = t.OutputChannels;
            Store(c00, c01, c, residual, mask0, mask1);
            if (rows > 1) Store(c10, c11, c + ldc, Offset(residual, ldc), mask0, mask1);
            if (rows > 2) Store(c20, c21, c + 2 * ldc, Offset(residual, 2 * ldc), mask0, mask1);
            if (rows > 3) Store(c30, c31, c + 3 * ldc, Offset(residual, 3 * ldc), mask0, mask1);
            if (rows > 4) Store(c40, c41, c + 4 * ldc, Offset(residual, 4 * ldc), mask0, mask1);
            if (rows > 5) Store(c50, c51, c + 5 * ldc, Offset(residual, 5 * ldc), mask0, mask1);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store(Vector256<float> x0, Vector256<float> x1, float* c, float* residual,
                           Vector256<float> mask0, Vector256<float> mask1)
        {
            if (residual != null)
            {
                x0 += Avx.MaskLoad(residual, mask0);
                x1 += Avx.MaskLoad(residual + 8, mask1);
            }
            Avx.MaskStore(c, mask0, InRegisters<TActivation>(wideVectors: false) ? activation.Invoke(x0) : x0);
            Avx.MaskStore(c + 8, mask1, InRegisters<TActivation>(wideVectors: false) ? activation.Invoke(x1) : x1);
        }
    }

    private readonly unsafe struct TilesScalar<TActivation>(TActivation activation) : ITiles
        where TActivation : struct, IActivation
    {
        public static int Rows => 1;

        public static int PanelWidth => 16;

        public bool DefersActivation => false;

        public void Activate(Span<float> values) { }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        public void Full(in Tile t, float* a, float* residual, float* c)
        {
            for (int j = 0; j < t.ValidColumns; j++)
            {
                float sum = t.Bias[j];
                float* w = t.Panel + j;
                for (int segment = 0, i = 0; segment < t.Segments; segment++)
                {
                    float* x = a + segment * t.SegmentStride;
                    for (int r = 0; r < t.SegmentLength; r++, i++, w += 16) sum += (t.Scale == null ? x[r] : x[r] * t.Scale[i]) * *w;
                }
                if (residual != null) sum += residual[j];
                c[j] = activation.Invoke(sum);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]

        public void Partial(in Tile t, int rows, float* a, float* residual, float* c) => Full(t, a, residual, c);
    }

    /// <summary>
    /// Whether the activation is applied to the tile in registers. Piecewise-linear ones always are. Swish is on the
    /// 16-lane path, whose sigmoid (<c>VectorMath.Sigmoid</c>) inlines into the store, with
    /// few enough temporaries next to the 24 accumulators: EfficientNet's expand convolutions on 19x19 and 10x10 maps
    /// measured 6-15 % faster than with the activation as a second pass. The other transcendental ones (and swish on
    /// 8-lane vectors, whose exp and divide need more registers than AVX2 has left) store raw sums, and each pixel chunk
    /// is activated afterwards, while still in L2, by <see cref="ElementwiseKernels.Apply"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool InRegisters<TActivation>(bool wideVectors) where TActivation : struct, IActivation
        => typeof(TActivation) == typeof(IdentityActivation) || typeof(TActivation) == typeof(ReluActivation)
           || typeof(TActivation) == typeof(BoundedReluActivation) || (wideVectors && typeof(TActivation) == typeof(SwishActivation));

    /// <summary><paramref name="pointer"/> advanced by <paramref name="offset"/> values, or null when it is null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float* Offset(float* pointer, nint offset) => pointer == null ? null : pointer + offset;
}
