using System.Runtime.CompilerServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Shapes of one pointwise (1x1, stride 1, unpadded) convolution: a GEMM <c>(Pixels × InputChannels) · (InputChannels × OutputChannels)</c>.</summary>
public readonly record struct PointwiseConvParams(int Pixels, int InputChannels, int OutputChannels);

/// <summary>
/// Pointwise convolutions as a packed GEMM, the way BLIS and oneDNN's "gemm" convolutions run them, written once over
/// <see cref="ILanes{TVector}"/>. Pixels are rows of the NHWC input (row stride <c>InputChannels</c>, read in place), the
/// kernel comes prepacked in panels of two vectors (<see cref="PackedPointwiseWeights"/>). The micro-kernel keeps a
/// tile of pixels × one panel in registers (12 × 2 vectors at 16 lanes, 24 of the 32 zmm registers; 6 × 2 at the
/// other widths, 12 of AVX2's or SSE's 16), broadcasting one input value per pixel against the panel's two vectors per
/// input channel (one vector when the panel holds at most one vector of valid channels). The epilogue runs on the tile
/// while it is in registers: bias (the accumulators start from it), an optional residual, then a piecewise-linear
/// activation or, on 16-lane vectors, swish (other transcendental ones run over each finished pixel chunk instead, see
/// <c>InRegisters</c>); the last panel's padding lanes are left out of every load and store, and pixel tails run the
/// same micro-kernel instantiated for fewer rows. Pixels are taken in L2-sized chunks, every panel of the call passing
/// over a chunk before the next.
/// </summary>
public static class PointwiseConvKernels
{
    /// <summary>
    /// Pixels per work block that keep every width's tiles whole (12 and 6 rows): callers that split pixels across
    /// threads should cut at multiples of it.
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
    /// <param name="weights">The kernel and bias, packed for <paramref name="width"/>.</param>
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
    /// <param name="width">The SIMD width to run at; the weights must be packed for the same one.</param>
    /// <exception cref="ArgumentException">A span is too short, or the weights do not match the shapes or the width.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A range lies outside the GEMM.</exception>
    public static void Nhwc<TActivation>(ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual,
                                         Span<float> output, in PointwiseConvParams p, TActivation activation, RowRange pixels, RowRange panels,
                                         ReadOnlySpan<float> inputScale = default, int pixelsPerImage = 0, SimdWidth width = SimdWidth.Auto)
        where TActivation : struct, IActivation
    {
        var call = new GemmCall<TActivation>
        {
            Input = input, Weights = weights, Residual = residual, Output = output, Shape = p, Activation = activation,
            Pixels = pixels, Panels = panels, InputScale = inputScale, PixelsPerImage = pixelsPerImage,
        };
        SimdDispatch.Run(width, ref call);
    }

    /// <summary>
    /// Computes output rows <paramref name="outputRows"/> (of <c>Batch × OutputHeight</c>) × panels
    /// <paramref name="panels"/> of a KxK convolution with the same packed micro-kernels, reading every output pixel's
    /// window straight from the input instead of from gathered patches. A tile's pixels are consecutive in one output
    /// row, so their windows start <c>StrideWidth × InputChannels</c> values apart, and a window's depth (HWIO order)
    /// is <c>KernelHeight</c> runs of <c>KernelWidth × InputChannels</c> contiguous input values, one per input row.
    /// </summary>
    /// <param name="input">NHWC input, already padded: <paramref name="p"/> has no padding.</param>
    /// <param name="weights">The <c>KernelHeight·KernelWidth·InputChannels × OutputChannels</c> kernel and bias, packed for <paramref name="width"/>.</param>
    /// <param name="residual">A tensor of the output's shape added before the activation, or empty for none.</param>
    /// <param name="output">NHWC output.</param>
    /// <param name="p">Shapes and window arithmetic; undilated along the width, no padding.</param>
    /// <param name="activation">Fused epilogue.</param>
    /// <param name="outputRows">The output rows to compute.</param>
    /// <param name="panels">The output-channel panels to compute.</param>
    /// <param name="width">The SIMD width to run at; the weights must be packed for the same one.</param>
    /// <exception cref="ArgumentException">A span is too short, the input is not padded already, or the weights do not match.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A range lies outside the output.</exception>
    public static void NhwcWindows<TActivation>(ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual,
                                                Span<float> output, in Conv2DParams p, TActivation activation, RowRange outputRows, RowRange panels,
                                                SimdWidth width = SimdWidth.Auto)
        where TActivation : struct, IActivation
    {
        var call = new WindowsCall<TActivation>
        {
            Input = input, Weights = weights, Residual = residual, Output = output, Shape = p, Activation = activation,
            OutputRows = outputRows, Panels = panels,
        };
        SimdDispatch.Run(width, ref call);
    }

    /// <summary>Pixels per full micro-kernel tile at a width: 12 at 16 lanes (32 registers), 6 at the others (16).</summary>
    internal static int RowsPerTile(int lanes) => lanes == 16 ? 12 : 6;

    private ref struct GemmCall<TActivation> : ISimdKernel where TActivation : struct, IActivation
    {
        public ReadOnlySpan<float> Input, Residual, InputScale;
        public Span<float> Output;
        public PackedPointwiseWeights Weights;
        public PointwiseConvParams Shape;
        public TActivation Activation;
        public RowRange Pixels, Panels;
        public int PixelsPerImage;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            // The micro-kernel is instantiated with the activation only when it runs in registers, and with the
            // identity otherwise: a deferred swish compiled into it (as dead code) measured 40 % slower on AVX2.
            bool inRegisters = InRegisters<TLanes, TVector, TActivation>();
            if (InputScale.IsEmpty && inRegisters)
                Gemm<TLanes, TVector, TActivation, TActivation, Unscaled>(Input, Weights, Residual, Output, Shape, Activation, Activation, Pixels, Panels, default, 0);
            else if (InputScale.IsEmpty)
                Gemm<TLanes, TVector, TActivation, IdentityActivation, Unscaled>(Input, Weights, Residual, Output, Shape, Activation, default, Pixels, Panels, default, 0);
            else if (inRegisters)
                Gemm<TLanes, TVector, TActivation, TActivation, Scaled>(Input, Weights, Residual, Output, Shape, Activation, Activation, Pixels, Panels, InputScale, PixelsPerImage);
            else
                Gemm<TLanes, TVector, TActivation, IdentityActivation, Scaled>(Input, Weights, Residual, Output, Shape, Activation, default, Pixels, Panels, InputScale, PixelsPerImage);
        }
    }

    private ref struct WindowsCall<TActivation> : ISimdKernel where TActivation : struct, IActivation
    {
        public ReadOnlySpan<float> Input, Residual;
        public Span<float> Output;
        public PackedPointwiseWeights Weights;
        public Conv2DParams Shape;
        public TActivation Activation;
        public RowRange OutputRows, Panels;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            if (InRegisters<TLanes, TVector, TActivation>())
                Windows<TLanes, TVector, TActivation, TActivation>(Input, Weights, Residual, Output, Shape, Activation, Activation, OutputRows, Panels);
            else
                Windows<TLanes, TVector, TActivation, IdentityActivation>(Input, Weights, Residual, Output, Shape, Activation, default, OutputRows, Panels);
        }
    }

    // The micro-kernels are small methods called once per tile, so they would start as Tier0 code (every vector on the
    // stack) and wait for call counting to promote them on a background thread, which a busy machine starves for
    // seconds: they and the drivers are compiled fully optimized from the first call instead.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Gemm<TLanes, TVector, TActivation, TEpilogue, TScaling>(
        ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual, Span<float> output, in PointwiseConvParams p,
        TActivation activation, TEpilogue epilogue, RowRange pixels, RowRange panels, ReadOnlySpan<float> inputScale, int pixelsPerImage)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation
        where TEpilogue : struct, IActivation where TScaling : struct, IInputScaling
    {
        int panelWidth = 2 * TLanes.Count, rowsPerTile = RowsPerTile(TLanes.Count);
        Validate(input, weights, residual, output, p, pixels, panels, panelWidth);
        bool scaled = TScaling.Enabled;
        if (scaled) ValidateScale(inputScale, p, pixelsPerImage);
        if (pixels.Count == 0 || panels.Count == 0) return;
        var tiles = new MicroKernel<TLanes, TVector, TEpilogue, TScaling>(epilogue);
        int k = p.InputChannels, n = p.OutputChannels;
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
                    int column = panel * panelWidth, valid = Math.Min(panelWidth, n - column);
                    var tile = Tile.Pointwise(packed + (nint)panel * k * panelWidth, bias + column,
                                              scaled ? scalePtr + (nint)image * k : null, k, n, valid);
                    int m = m0;
                    for (; m + rowsPerTile <= m1; m += rowsPerTile)
                        tiles.Full(tile, At(inputPtr, m, k, 0), At(residualPtr, m, n, column), At(outputPtr, m, n, column));
                    if (m < m1)
                        tiles.Partial(tile, m1 - m, At(inputPtr, m, k, 0), At(residualPtr, m, n, column), At(outputPtr, m, n, column));
                }
                if (typeof(TEpilogue) == typeof(TActivation)) continue; // applied in registers
                ActivateColumns(outputPtr, m0, m1, n, panels.Start * panelWidth, Math.Min(n, panels.End * panelWidth), activation);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Windows<TLanes, TVector, TActivation, TEpilogue>(
        ReadOnlySpan<float> input, PackedPointwiseWeights weights, ReadOnlySpan<float> residual, Span<float> output, in Conv2DParams p,
        TActivation activation, TEpilogue epilogue, RowRange outputRows, RowRange panels)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation where TEpilogue : struct, IActivation
    {
        int panelWidth = 2 * TLanes.Count, rowsPerTile = RowsPerTile(TLanes.Count);
        ValidateWindows(input, weights, residual, output, p, outputRows, panels, panelWidth);
        if (outputRows.Count == 0 || panels.Count == 0) return;
        var tiles = new MicroKernel<TLanes, TVector, TEpilogue, Unscaled>(epilogue);
        int c = p.InputChannels, n = p.OutputChannels, width = p.OutputWidth, depth = weights.InputChannels;
        nint inputRow = (nint)p.InputWidth * c, pixelStride = (nint)p.StrideWidth * c;
        // A row splits into tiles of near-equal size (112 pixels: 8 × 11 + 2 × 12 rather than 9 × 12 + 4), since a
        // short tile costs almost as much as a full one.
        int tileCount = (width + rowsPerTile - 1) / rowsPerTile, shortTile = width / tileCount, longTiles = width % tileCount;
        fixed (float* inputPtr = input, residualPtr = residual, outputPtr = output)
        {
            for (int row = outputRows.Start; row < outputRows.End; row++)
            {
                int image = row / p.OutputHeight, oy = row - image * p.OutputHeight;
                float* window = inputPtr + ((nint)image * p.InputHeight + (nint)oy * p.StrideHeight) * inputRow;
                for (int panel = panels.Start; panel < panels.End; panel++)
                {
                    int column = panel * panelWidth;
                    var tile = new Tile
                    {
                        Panel = weights.Panels + (nint)panel * depth * panelWidth,
                        Bias = weights.Bias + column,
                        InputChannels = depth,
                        OutputChannels = n,
                        ValidColumns = Math.Min(panelWidth, n - column),
                        RowStride = pixelStride,
                        Segments = p.KernelHeight,
                        SegmentLength = p.KernelWidth * c,
                        SegmentStride = p.DilationHeight * inputRow,
                    };
                    for (int t = 0, x = 0; t < tileCount; t++)
                    {
                        int pixels = t < longTiles ? shortTile + 1 : shortTile, m = row * width + x;
                        float* a = window + x * pixelStride;
                        if (pixels == rowsPerTile) tiles.Full(tile, a, At(residualPtr, m, n, column), At(outputPtr, m, n, column));
                        else tiles.Partial(tile, pixels, a, At(residualPtr, m, n, column), At(outputPtr, m, n, column));
                        x += pixels;
                    }
                }
                if (typeof(TEpilogue) == typeof(TActivation)) continue; // applied in registers
                ActivateColumns(outputPtr, row * width, (row + 1) * width, n, panels.Start * panelWidth, Math.Min(n, panels.End * panelWidth), activation);
            }
        }
    }

    /// <summary>The deferred activation of pixels <c>[m0, m1)</c>, channels <c>[first, end)</c>, while they are still in L2.</summary>
    private static unsafe void ActivateColumns<TActivation>(float* output, int m0, int m1, int n, int first, int end, TActivation activation)
        where TActivation : struct, IActivation
    {
        if (first == 0 && end == n)
        {
            var values = new Span<float>(At(output, m0, n, 0), (m1 - m0) * n);
            ElementwiseKernels.Apply(values, values, activation);
            return;
        }
        for (int m = m0; m < m1; m++)
        {
            var values = new Span<float>(At(output, m, n, first), end - first);
            ElementwiseKernels.Apply(values, values, activation);
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

    /// <summary>
    /// Whether the activation is applied to the tile in registers: only the piecewise-linear ones, a few instructions
    /// each. The transcendental ones store raw sums, and each pixel chunk is activated afterwards, while still in L2, by
    /// <see cref="ElementwiseKernels.Apply"/>. Swish in registers at 16 lanes (24 sigmoids in one micro-kernel) made the
    /// JIT run out of inlining budget: the store became a call per vector, and EfficientNet-B0's expand convolutions
    /// ran at 46-62 GFLOP/s against 230-310 as a second pass (Inspect profile, 2 threads: the model 8.45 -> 4.15 ms).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool InRegisters<TLanes, TVector, TActivation>()
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation
        => typeof(TActivation) == typeof(IdentityActivation) || typeof(TActivation) == typeof(ReluActivation)
           || typeof(TActivation) == typeof(BoundedReluActivation);

    /// <summary>
    /// The micro-kernels of one width. <c>a</c> is the first pixel's input, <c>residual</c> (null for none) and <c>c</c>
    /// the first pixel's output at the panel's first channel; pixels are <c>Tile.RowStride</c> / <c>OutputChannels</c>
    /// apart.
    /// </summary>
    private readonly unsafe struct MicroKernel<TLanes, TVector, TActivation, TScaling>(TActivation activation)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation where TScaling : struct, IInputScaling
    {
        private static int Rows => RowsPerTile(TLanes.Count);

        /// <summary><see cref="RowsPerTile"/> pixels.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Full(in Tile t, float* a, float* residual, float* c)
        {
            if (t.ValidColumns > TLanes.Count) Full<Rows2>(t, a, residual, c);
            else Full<Rows1>(t, a, residual, c);
        }

        /// <summary><paramref name="rows"/> pixels, fewer than <see cref="RowsPerTile"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Partial(in Tile t, int rows, float* a, float* residual, float* c)
        {
            if (t.ValidColumns > TLanes.Count) Partial<Rows2>(t, rows, a, residual, c);
            else Partial<Rows1>(t, rows, a, residual, c);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Full<TVectors>(in Tile t, float* a, float* residual, float* c) where TVectors : struct, ICount
        {
            if (Rows == 12) Kernel<Rows12, TVectors>(t, a, residual, c);
            else Kernel<Rows6, TVectors>(t, a, residual, c);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Partial<TVectors>(in Tile t, int rows, float* a, float* residual, float* c) where TVectors : struct, ICount
        {
            // Rows is a constant for the JIT: the 6-row widths compile only the first switch.
            if (Rows == 12 && rows > 5)
            {
                switch (rows)
                {
                    case 6: Kernel<Rows6, TVectors>(t, a, residual, c); break;
                    case 7: Kernel<Rows7, TVectors>(t, a, residual, c); break;
                    case 8: Kernel<Rows8, TVectors>(t, a, residual, c); break;
                    case 9: Kernel<Rows9, TVectors>(t, a, residual, c); break;
                    case 10: Kernel<Rows10, TVectors>(t, a, residual, c); break;
                    default: Kernel<Rows11, TVectors>(t, a, residual, c); break;
                }
                return;
            }
            switch (rows)
            {
                case 1: Kernel<Rows1, TVectors>(t, a, residual, c); break;
                case 2: Kernel<Rows2, TVectors>(t, a, residual, c); break;
                case 3: Kernel<Rows3, TVectors>(t, a, residual, c); break;
                case 4: Kernel<Rows4, TVectors>(t, a, residual, c); break;
                default: Kernel<Rows5, TVectors>(t, a, residual, c); break;
            }
        }

        /// <summary>
        /// <typeparamref name="TRows"/> pixels × <typeparamref name="TVectors"/> vectors: a panel with at most one vector
        /// of valid channels (16-channel layers at 16 lanes, the last panel of 24 or 40) computes only its first vector.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Kernel<TRows, TVectors>(in Tile t, float* a, float* residual, float* c) where TRows : struct, ICount where TVectors : struct, ICount
        {
            int rows = TRows.Count;
            bool wide = TVectors.Count == 2;
            var bias0 = TLanes.Load(t.Bias);
            var bias1 = wide ? TLanes.Load(t.Bias + TLanes.Count) : default;
            TVector c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1;
            TVector c30 = bias0, c31 = bias1, c40 = bias0, c41 = bias1, c50 = bias0, c51 = bias1;
            TVector c60 = bias0, c61 = bias1, c70 = bias0, c71 = bias1, c80 = bias0, c81 = bias1;
            TVector c90 = bias0, c91 = bias1, ca0 = bias0, ca1 = bias1, cb0 = bias0, cb1 = bias1;
            // Rows 0-3, 4-7 and 8-11 are addressed from three pointers with the strides 1, 2 and 3 rows in registers,
            // so every broadcast is one load with a scaled-index address and the loop advances at most four pointers
            // (the pointers a tile of fewer rows does not read are never advanced, so the JIT drops them). Each row's step
            // is one inlined MultiplyAdd2, whose JIT output is that of the rows written out; check it after changing it: an
            // earlier helper taking each row's accumulators by ref ran 2x slower (PointwiseConvBenchmarks, AVX2: 9-13
            // GFLOP/s against 20-30), the accumulators left in memory.
            nint s1 = t.RowStride, s2 = 2 * s1, s3 = 3 * s1;
            int step = 2 * TLanes.Count;
            float* w = t.Panel, scale = t.Scale;
            for (int segment = 0; segment < t.Segments; segment++, a += t.SegmentStride)
            {
                float* x4 = a + 4 * s1, x8 = a + 8 * s1;
                for (float* x0 = a, end = a + t.SegmentLength; x0 < end; x0++, w += step)
                {
                    var w0 = TLanes.Load(w);
                    var w1 = wide ? TLanes.Load(w + TLanes.Count) : default;
                    if (TScaling.Enabled)
                    {
                        var sc = TLanes.Create(*scale++);
                        w0 = TLanes.Multiply(w0, sc);
                        if (wide) w1 = TLanes.Multiply(w1, sc);
                    }
                    MultiplyAdd2(*x0, w0, w1, wide, ref c00, ref c01);
                    if (rows > 1) MultiplyAdd2(x0[s1], w0, w1, wide, ref c10, ref c11);
                    if (rows > 2) MultiplyAdd2(x0[s2], w0, w1, wide, ref c20, ref c21);
                    if (rows > 3) MultiplyAdd2(x0[s3], w0, w1, wide, ref c30, ref c31);
                    if (rows > 4) MultiplyAdd2(*x4, w0, w1, wide, ref c40, ref c41);
                    if (rows > 5) MultiplyAdd2(x4[s1], w0, w1, wide, ref c50, ref c51);
                    if (rows > 6) MultiplyAdd2(x4[s2], w0, w1, wide, ref c60, ref c61);
                    if (rows > 7) MultiplyAdd2(x4[s3], w0, w1, wide, ref c70, ref c71);
                    if (rows > 8) MultiplyAdd2(*x8, w0, w1, wide, ref c80, ref c81);
                    if (rows > 9) MultiplyAdd2(x8[s1], w0, w1, wide, ref c90, ref c91);
                    if (rows > 10) MultiplyAdd2(x8[s2], w0, w1, wide, ref ca0, ref ca1);
                    if (rows > 11) MultiplyAdd2(x8[s3], w0, w1, wide, ref cb0, ref cb1);
                    if (rows > 4) x4++;
                    if (rows > 8) x8++;
                }
            }

            nint ldc = t.OutputChannels;
            int valid = t.ValidColumns;
            Store(c00, c01, wide, c, residual, valid);
            if (rows > 1) Store(c10, c11, wide, c + ldc, Offset(residual, ldc), valid);
            if (rows > 2) Store(c20, c21, wide, c + 2 * ldc, Offset(residual, 2 * ldc), valid);
            if (rows > 3) Store(c30, c31, wide, c + 3 * ldc, Offset(residual, 3 * ldc), valid);
            if (rows > 4) Store(c40, c41, wide, c + 4 * ldc, Offset(residual, 4 * ldc), valid);
            if (rows > 5) Store(c50, c51, wide, c + 5 * ldc, Offset(residual, 5 * ldc), valid);
            if (rows > 6) Store(c60, c61, wide, c + 6 * ldc, Offset(residual, 6 * ldc), valid);
            if (rows > 7) Store(c70, c71, wide, c + 7 * ldc, Offset(residual, 7 * ldc), valid);
            if (rows > 8) Store(c80, c81, wide, c + 8 * ldc, Offset(residual, 8 * ldc), valid);
            if (rows > 9) Store(c90, c91, wide, c + 9 * ldc, Offset(residual, 9 * ldc), valid);
            if (rows > 10) Store(ca0, ca1, wide, c + 10 * ldc, Offset(residual, 10 * ldc), valid);
            if (rows > 11) Store(cb0, cb1, wide, c + 11 * ldc, Offset(residual, 11 * ldc), valid);
        }

        /// <summary><c>a0 += x · w0</c> and, when <paramref name="wide"/>, <c>a1 += x · w1</c>: one pixel's step.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void MultiplyAdd2(float x, TVector w0, TVector w1, bool wide, ref TVector a0, ref TVector a1)
        {
            var v = TLanes.Create(x);
            a0 = TLanes.MultiplyAdd(v, w0, a0);
            if (wide) a1 = TLanes.MultiplyAdd(v, w1, a1);
        }

        /// <summary>One pixel's one or two vectors, of which the first <paramref name="valid"/> lanes are output channels.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store(TVector x0, TVector x1, bool wide, float* c, float* residual, int valid)
        {
            StoreVector(x0, c, residual, valid);
            if (wide) StoreVector(x1, c + TLanes.Count, Offset(residual, TLanes.Count), valid - TLanes.Count);
        }

        /// <summary>
        /// Lanes past the last output channel belong to the next pixel (or lie past the buffer): a partial vector (the
        /// last panel only) is loaded and stored with <see cref="ILanes{TVector}.LoadFirst"/> and <see cref="ILanes{TVector}.StoreFirst"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void StoreVector(TVector x, float* c, float* residual, int valid)
        {
            if (valid >= TLanes.Count)
            {
                if (residual != null) x = TLanes.Add(x, TLanes.Load(residual));
                TLanes.Store(c, activation.Invoke<TLanes, TVector>(x));
                return;
            }
            if (residual != null) x = TLanes.Add(x, TLanes.LoadFirst(residual, valid));
            TLanes.StoreFirst(c, activation.Invoke<TLanes, TVector>(x), valid);
        }
    }

    /// <summary><paramref name="pointer"/> advanced by <paramref name="offset"/> values, or null when it is null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float* Offset(float* pointer, nint offset) => pointer == null ? null : pointer + offset;
}
