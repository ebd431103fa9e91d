using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Gradients of an NHWC 2-D convolution with an HWIO kernel <c>(kh, kw, inChannels, outChannels)</c>, for any strides,
/// dilations and explicit pads (<see cref="Conv2DParams"/>: <c>PadTop</c>/<c>PadLeft</c>, the bottom/right pad implied
/// by the output size, as <see cref="Padding2D.Resolve"/> gives Keras's 'same'). Written once over
/// <see cref="ILanes{TVector}"/>; nothing allocates, workspaces come from the caller.
/// </summary>
/// <remarks>
/// <para>
/// The weight gradient is the GEMM <c>dW = Pᵀ·dY</c> with <c>P</c> the patch matrix of <see cref="Conv2DKernels.GatherPatches"/>
/// (one output row of patches at a time in the workspace; a pointwise convolution uses the input itself). It is split
/// by output rows: threads sum disjoint row ranges into their own partial gradients (<c>accumulate: false</c>), and the
/// caller adds the partials.
/// </para>
/// <para>
/// The input gradient gathers, for each input pixel, the output pixels whose windows cover it (the transposed
/// convolution), rather than scattering <c>dY·Wᵀ</c> back through col2im: each input row is then written by one
/// thread only, so row ranges split it with no partial sums, and no patch workspace is needed. It reads the kernel
/// transposed to <c>(kh, kw, outChannels, inChannels)</c> (<see cref="TransposeKernel"/>, once per step), so the
/// innermost loop runs over contiguous input channels.
/// </para>
/// </remarks>
public static class Conv2DBackwardKernels
{
    /// <summary>The workspace <see cref="KernelGradient"/> needs: one output row of patches, <c>outputWidth · kh·kw·inChannels</c> values (0 for a pointwise convolution).</summary>
    /// <exception cref="ArgumentException">The window arithmetic of <paramref name="p"/> is out of range, or the workspace exceeds 32-bit lengths.</exception>
    public static int WorkspaceLength(in Conv2DParams p)
    {
        Conv2DKernels.CheckWindows(p);
        if (IsPointwise(in p)) return 0;
        long length = WindowChecks.Count(p.OutputWidth, p.KernelHeight, p.KernelWidth, p.InputChannels);
        if (length > int.MaxValue) throw new ArgumentException($"A row of patches needs {length} values, past 32-bit lengths: {p}.", nameof(p));
        return (int)length;
    }

    /// <summary>The work rows of <see cref="InputGradient"/>: one per input row of each image, <c>batch · inputHeight</c>.</summary>
    public static int InputRowCount(in Conv2DParams p) => checked(p.Batch * p.InputHeight);

    /// <summary>
    /// Writes <c>transposed[ky, kx, f, c] = kernel[ky, kx, c, f]</c>, the layout <see cref="InputGradient"/> reads.
    /// </summary>
    /// <param name="kernel">HWIO kernel <c>(kh, kw, inChannels, outChannels)</c>.</param>
    /// <param name="transposed">The same number of values, <c>(kh, kw, outChannels, inChannels)</c>.</param>
    /// <param name="p">Shapes.</param>
    /// <exception cref="ArgumentException">A span's length is not <c>kh·kw·inChannels·outChannels</c>.</exception>
    public static void TransposeKernel(ReadOnlySpan<float> kernel, Span<float> transposed, in Conv2DParams p)
    {
        Conv2DKernels.CheckWindows(p);
        long length = WindowChecks.Count(p.KernelHeight, p.KernelWidth, p.InputChannels, p.OutputChannels);
        CheckExact(kernel.Length, length, nameof(kernel));
        CheckExact(transposed.Length, length, nameof(transposed));
        int cin = p.InputChannels, cout = p.OutputChannels, block = cin * cout;
        for (int tap = 0; tap < p.KernelHeight * p.KernelWidth; tap++)
        {
            var from = kernel.Slice(tap * block, block);
            var to = transposed.Slice(tap * block, block);
            for (int c = 0; c < cin; c++)
                for (int f = 0; f < cout; f++)
                    to[f * cin + c] = from[c * cout + f];
        }
    }

    /// <summary>
    /// Computes input rows <paramref name="inputRows"/> (of <see cref="InputRowCount"/>) of
    /// <c>inputGradient[n, iy, ix, c] (+)= Σ outputGradient[n, oy, ox, f] · kernel[ky, kx, c, f]</c> over the taps and
    /// output pixels with <c>iy = oy·sh + ky·dh − padTop</c> and <c>ix = ox·sw + kx·dw − padLeft</c>.
    /// </summary>
    /// <param name="outputGradient">NHWC <c>(batch, outputHeight, outputWidth, outChannels)</c>.</param>
    /// <param name="transposedKernel">The kernel as <see cref="TransposeKernel"/> writes it, <c>(kh, kw, outChannels, inChannels)</c>.</param>
    /// <param name="inputGradient">NHWC <c>(batch, inputHeight, inputWidth, inChannels)</c>.</param>
    /// <param name="p">Shapes and window arithmetic of the forward convolution.</param>
    /// <param name="inputRows">Input rows to compute; disjoint ranges write disjoint values.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> (a fan-out) instead of overwriting it.</param>
    /// <param name="width">The SIMD width (<see cref="SimdWidth.Auto"/>: <see cref="SimdDispatch.Best"/>).</param>
    /// <exception cref="ArgumentException">The window arithmetic is out of range or a span is shorter than the shapes need.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputRows"/> is outside <c>[0, batch · inputHeight]</c>.</exception>
    public static void InputGradient(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> transposedKernel, Span<float> inputGradient,
                                     in Conv2DParams p, RowRange inputRows, bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        CheckCommon(outputGradient.Length, in p);
        CheckExact(transposedKernel.Length, WindowChecks.Count(p.KernelHeight, p.KernelWidth, p.InputChannels, p.OutputChannels), nameof(transposedKernel));
        BackwardLoops.CheckLength(inputGradient.Length, WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.InputChannels), nameof(inputGradient));
        BackwardLoops.CheckRows(inputRows, (long)p.Batch * p.InputHeight, nameof(inputRows));
        if (IsPointwise(in p))
        {
            int rowLength = p.InputWidth, start = inputRows.Start * rowLength, count = inputRows.Count * rowLength;
            var product = new PointwiseInputGradientKernel
            {
                OutputGradient = outputGradient.Slice(start * p.OutputChannels, count * p.OutputChannels), Kernel = transposedKernel,
                InputGradient = inputGradient.Slice(start * p.InputChannels, count * p.InputChannels), Pixels = count,
                InChannels = p.InputChannels, Filters = p.OutputChannels, Accumulate = accumulate,
            };
            SimdDispatch.Run(width, ref product);
            return;
        }
        var body = new InputGradientKernel
        {
            OutputGradient = outputGradient, Kernel = transposedKernel, InputGradient = inputGradient, Params = p, Rows = inputRows, Accumulate = accumulate,
        };
        SimdDispatch.Run(width, ref body);
    }

    /// <summary>
    /// Computes <c>kernelGradient[ky, kx, c, f] (+)= Σ input[n, oy·sh + ky·dh − padTop, ox·sw + kx·dw − padLeft, c] ·
    /// outputGradient[n, oy, ox, f]</c> over the output rows <paramref name="outputRows"/> (of
    /// <see cref="Conv2DParams.RowCount"/>), zero where the window lies in the padding.
    /// </summary>
    /// <param name="input">The forward input, NHWC.</param>
    /// <param name="outputGradient">NHWC <c>(batch, outputHeight, outputWidth, outChannels)</c>.</param>
    /// <param name="kernelGradient">HWIO <c>(kh, kw, inChannels, outChannels)</c>: the sum over <paramref name="outputRows"/> only.</param>
    /// <param name="workspace">At least <see cref="WorkspaceLength"/> values, owned by this call while it runs.</param>
    /// <param name="p">Shapes and window arithmetic.</param>
    /// <param name="outputRows">Output rows summed. Threads given disjoint ranges need their own <paramref name="kernelGradient"/> and <paramref name="workspace"/>.</param>
    /// <param name="accumulate">Add to <paramref name="kernelGradient"/> instead of overwriting it.</param>
    /// <param name="width">The SIMD width.</param>
    /// <exception cref="ArgumentException">The window arithmetic is out of range or a span is shorter than the shapes need.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputRows"/> is outside <c>[0, batch · outputHeight]</c>.</exception>
    public static void KernelGradient(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> kernelGradient,
                                      Span<float> workspace, in Conv2DParams p, RowRange outputRows, bool accumulate,
                                      SimdWidth width = SimdWidth.Auto)
    {
        CheckCommon(outputGradient.Length, in p);
        BackwardLoops.CheckLength(input.Length, WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.InputChannels), nameof(input));
        CheckExact(kernelGradient.Length, WindowChecks.Count(p.KernelHeight, p.KernelWidth, p.InputChannels, p.OutputChannels), nameof(kernelGradient));
        BackwardLoops.CheckLength(workspace.Length, WorkspaceLength(in p), nameof(workspace));
        BackwardLoops.CheckRows(outputRows, p.RowCount, nameof(outputRows));
        if (!accumulate) kernelGradient.Clear();
        int depth = p.KernelHeight * p.KernelWidth * p.InputChannels, pixels = p.OutputWidth;
        bool pointwise = IsPointwise(in p);
        if (pointwise)
        {
            // The rows' pixels are contiguous in both the input and dY: one register-blocked product over all of them.
            int start = outputRows.Start * pixels, count = outputRows.Count * pixels;
            var product = new KernelGradientProduct
            {
                Input = input.Slice(start * depth, count * depth), OutputGradient = outputGradient.Slice(start * p.OutputChannels, count * p.OutputChannels),
                KernelGradient = kernelGradient, Pixels = count, Depth = depth, Filters = p.OutputChannels,
            };
            SimdDispatch.Run(width, ref product);
            return;
        }
        for (int row = outputRows.Start; row < outputRows.End; row++)
        {
            // Other windows: one output row's patches gathered, then the same product with the patch as the input pixel.
            Conv2DKernels.GatherPatches(input, workspace, in p, new RowRange(row * pixels, (row + 1) * pixels));
            var body = new KernelGradientProduct
            {
                Input = workspace[..(pixels * depth)], OutputGradient = outputGradient.Slice(row * pixels * p.OutputChannels, pixels * p.OutputChannels),
                KernelGradient = kernelGradient, Pixels = pixels, Depth = depth, Filters = p.OutputChannels,
            };
            SimdDispatch.Run(width, ref body);
        }
    }

    /// <summary>
    /// <c>biasGradient[f] (+)= Σ outputGradient[n, oy, ox, f]</c> over the output rows <paramref name="outputRows"/>
    /// (<see cref="DenseBackwardKernels.BiasGradient"/> over their pixels).
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than the shapes need, or the bias gradient is not <c>outChannels</c> long.</exception>
    public static void BiasGradient(ReadOnlySpan<float> outputGradient, Span<float> biasGradient, in Conv2DParams p, RowRange outputRows,
                                    bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        CheckCommon(outputGradient.Length, in p);
        CheckExact(biasGradient.Length, p.OutputChannels, nameof(biasGradient));
        BackwardLoops.CheckRows(outputRows, p.RowCount, nameof(outputRows));
        int rowLength = p.OutputWidth * p.OutputChannels;
        DenseBackwardKernels.BiasGradient(outputGradient.Slice(outputRows.Start * rowLength, outputRows.Count * rowLength), biasGradient,
                                          outputRows.Count * p.OutputWidth, accumulate, width);
    }

    private static bool IsPointwise(in Conv2DParams p) =>
        p.KernelHeight == 1 && p.KernelWidth == 1 && p.StrideHeight == 1 && p.StrideWidth == 1 && p.PadTop == 0 && p.PadLeft == 0
        && p.OutputHeight == p.InputHeight && p.OutputWidth == p.InputWidth;

    // Pixels per tile of the pointwise products: a tile's dY (kernel gradient) or output rows (input gradient) stay in
    // L1/L2 while every block of channels sweeps it, and each accumulator block is loaded and stored once per tile.
    private const int PixelsPerTile = 64;

    /// <summary>
    /// A kernel gradient <c>dW[k, f] += Σ_p X[p, k] · dY[p, f]</c>, X being the input pixels (pointwise) or their gathered
    /// patches (depth k = window × channels): blocks of four rows of dW by three vectors of filters in twelve registers,
    /// so each dY vector loaded feeds four FMAs (one, row by row).
    /// </summary>
    private ref struct KernelGradientProduct : ISimdKernel
    {
        public ReadOnlySpan<float> Input, OutputGradient;
        public Span<float> KernelGradient;
        public int Pixels, Depth, Filters;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            ref float x = ref MemoryMarshal.GetReference(Input);
            ref float dy = ref MemoryMarshal.GetReference(OutputGradient);
            ref float dw = ref MemoryMarshal.GetReference(KernelGradient);
            for (int p0 = 0; p0 < Pixels; p0 += PixelsPerTile)
            {
                int count = Math.Min(PixelsPerTile, Pixels - p0);
                TransposedProductAdd<TLanes, TVector>(ref Unsafe.Add(ref x, (nint)p0 * Depth), ref Unsafe.Add(ref dy, (nint)p0 * Filters),
                                                      ref dw, count, Depth, Filters);
            }
        }
    }

    /// <summary>
    /// <c>c[k, f] += Σ_p a[p, k] · b[p, f]</c> for <c>k &lt; depth</c>, <c>f &lt; filters</c>, <c>p &lt; pixels</c>
    /// (<c>a</c> is <c>pixels × depth</c>, <c>b</c> <c>pixels × filters</c>, <c>c</c> <c>depth × filters</c>, row-major).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposedProductAdd<TLanes, TVector>(ref float a, ref float b, ref float c, int pixels, int depth, int filters)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        int lanes = TLanes.Count, f = 0;
        nuint l = (nuint)lanes;
        nint fs = filters, ds = depth;
        for (; f + 3 * lanes <= filters; f += 3 * lanes)
        {
            int k = 0;
            for (; k + 4 <= depth; k += 4)
            {
                ref float c0 = ref Unsafe.Add(ref c, k * fs + f);
                ref float c1 = ref Unsafe.Add(ref c0, fs);
                ref float c2 = ref Unsafe.Add(ref c1, fs);
                ref float c3 = ref Unsafe.Add(ref c2, fs);
                TVector s00 = TLanes.Load(ref c0, 0), s01 = TLanes.Load(ref c0, l), s02 = TLanes.Load(ref c0, 2 * l);
                TVector s10 = TLanes.Load(ref c1, 0), s11 = TLanes.Load(ref c1, l), s12 = TLanes.Load(ref c1, 2 * l);
                TVector s20 = TLanes.Load(ref c2, 0), s21 = TLanes.Load(ref c2, l), s22 = TLanes.Load(ref c2, 2 * l);
                TVector s30 = TLanes.Load(ref c3, 0), s31 = TLanes.Load(ref c3, l), s32 = TLanes.Load(ref c3, 2 * l);
                ref float bp = ref Unsafe.Add(ref b, f);
                ref float ap = ref Unsafe.Add(ref a, k);
                for (int p = 0; p < pixels; p++, bp = ref Unsafe.Add(ref bp, fs), ap = ref Unsafe.Add(ref ap, ds))
                {
                    var b0 = TLanes.Load(ref bp, 0);
                    var b1 = TLanes.Load(ref bp, l);
                    var b2 = TLanes.Load(ref bp, 2 * l);
                    var w = TLanes.Create(ap);
                    s00 = TLanes.MultiplyAdd(b0, w, s00);
                    s01 = TLanes.MultiplyAdd(b1, w, s01);
                    s02 = TLanes.MultiplyAdd(b2, w, s02);
                    w = TLanes.Create(Unsafe.Add(ref ap, 1));
                    s10 = TLanes.MultiplyAdd(b0, w, s10);
                    s11 = TLanes.MultiplyAdd(b1, w, s11);
                    s12 = TLanes.MultiplyAdd(b2, w, s12);
                    w = TLanes.Create(Unsafe.Add(ref ap, 2));
                    s20 = TLanes.MultiplyAdd(b0, w, s20);
                    s21 = TLanes.MultiplyAdd(b1, w, s21);
                    s22 = TLanes.MultiplyAdd(b2, w, s22);
                    w = TLanes.Create(Unsafe.Add(ref ap, 3));
                    s30 = TLanes.MultiplyAdd(b0, w, s30);
                    s31 = TLanes.MultiplyAdd(b1, w, s31);
                    s32 = TLanes.MultiplyAdd(b2, w, s32);
                }
                TLanes.Store(ref c0, 0, s00); TLanes.Store(ref c0, l, s01); TLanes.Store(ref c0, 2 * l, s02);
                TLanes.Store(ref c1, 0, s10); TLanes.Store(ref c1, l, s11); TLanes.Store(ref c1, 2 * l, s12);
                TLanes.Store(ref c2, 0, s20); TLanes.Store(ref c2, l, s21); TLanes.Store(ref c2, 2 * l, s22);
                TLanes.Store(ref c3, 0, s30); TLanes.Store(ref c3, l, s31); TLanes.Store(ref c3, 2 * l, s32);
            }
            for (; k < depth; k++)
            {
                ref float c0 = ref Unsafe.Add(ref c, k * fs + f);
                TVector s0 = TLanes.Load(ref c0, 0), s1 = TLanes.Load(ref c0, l), s2 = TLanes.Load(ref c0, 2 * l);
                ref float bp = ref Unsafe.Add(ref b, f);
                ref float ap = ref Unsafe.Add(ref a, k);
                for (int p = 0; p < pixels; p++, bp = ref Unsafe.Add(ref bp, fs), ap = ref Unsafe.Add(ref ap, ds))
                {
                    var w = TLanes.Create(ap);
                    s0 = TLanes.MultiplyAdd(TLanes.Load(ref bp, 0), w, s0);
                    s1 = TLanes.MultiplyAdd(TLanes.Load(ref bp, l), w, s1);
                    s2 = TLanes.MultiplyAdd(TLanes.Load(ref bp, 2 * l), w, s2);
                }
                TLanes.Store(ref c0, 0, s0); TLanes.Store(ref c0, l, s1); TLanes.Store(ref c0, 2 * l, s2);
            }
        }
        // Two vectors of filters by four channels: eight chains.
        for (; f + 2 * lanes <= filters; f += 2 * lanes)
        {
            int k = 0;
            for (; k + 4 <= depth; k += 4)
            {
                ref float c0 = ref Unsafe.Add(ref c, k * fs + f);
                ref float c1 = ref Unsafe.Add(ref c0, fs);
                ref float c2 = ref Unsafe.Add(ref c1, fs);
                ref float c3 = ref Unsafe.Add(ref c2, fs);
                TVector s00 = TLanes.Load(ref c0, 0), s01 = TLanes.Load(ref c0, l), s10 = TLanes.Load(ref c1, 0), s11 = TLanes.Load(ref c1, l);
                TVector s20 = TLanes.Load(ref c2, 0), s21 = TLanes.Load(ref c2, l), s30 = TLanes.Load(ref c3, 0), s31 = TLanes.Load(ref c3, l);
                ref float bp = ref Unsafe.Add(ref b, f);
                ref float ap = ref Unsafe.Add(ref a, k);
                for (int p = 0; p < pixels; p++, bp = ref Unsafe.Add(ref bp, fs), ap = ref Unsafe.Add(ref ap, ds))
                {
                    var b0 = TLanes.Load(ref bp, 0);
                    var b1 = TLanes.Load(ref bp, l);
                    var w = TLanes.Create(ap);
                    s00 = TLanes.MultiplyAdd(b0, w, s00);
                    s01 = TLanes.MultiplyAdd(b1, w, s01);
                    w = TLanes.Create(Unsafe.Add(ref ap, 1));
                    s10 = TLanes.MultiplyAdd(b0, w, s10);
                    s11 = TLanes.MultiplyAdd(b1, w, s11);
                    w = TLanes.Create(Unsafe.Add(ref ap, 2));
                    s20 = TLanes.MultiplyAdd(b0, w, s20);
                    s21 = TLanes.MultiplyAdd(b1, w, s21);
                    w = TLanes.Create(Unsafe.Add(ref ap, 3));
                    s30 = TLanes.MultiplyAdd(b0, w, s30);
                    s31 = TLanes.MultiplyAdd(b1, w, s31);
                }
                TLanes.Store(ref c0, 0, s00); TLanes.Store(ref c0, l, s01); TLanes.Store(ref c1, 0, s10); TLanes.Store(ref c1, l, s11);
                TLanes.Store(ref c2, 0, s20); TLanes.Store(ref c2, l, s21); TLanes.Store(ref c3, 0, s30); TLanes.Store(ref c3, l, s31);
            }
            for (; k < depth; k++)
            {
                ref float c0 = ref Unsafe.Add(ref c, k * fs + f);
                TVector s0 = TLanes.Load(ref c0, 0), s1 = TLanes.Load(ref c0, l);
                ref float bp = ref Unsafe.Add(ref b, f);
                ref float ap = ref Unsafe.Add(ref a, k);
                for (int p = 0; p < pixels; p++, bp = ref Unsafe.Add(ref bp, fs), ap = ref Unsafe.Add(ref ap, ds))
                {
                    var w = TLanes.Create(ap);
                    s0 = TLanes.MultiplyAdd(TLanes.Load(ref bp, 0), w, s0);
                    s1 = TLanes.MultiplyAdd(TLanes.Load(ref bp, l), w, s1);
                }
                TLanes.Store(ref c0, 0, s0); TLanes.Store(ref c0, l, s1);
            }
        }
        for (; f + lanes <= filters; f += lanes)
        {
            int k = 0;
            for (; k + 4 <= depth; k += 4)
            {
                ref float c0 = ref Unsafe.Add(ref c, k * fs + f);
                TVector s0 = TLanes.Load(ref c0, 0), s1 = TLanes.Load(ref c0, (nuint)fs), s2 = TLanes.Load(ref c0, 2 * (nuint)fs), s3 = TLanes.Load(ref c0, 3 * (nuint)fs);
                ref float bp = ref Unsafe.Add(ref b, f);
                ref float ap = ref Unsafe.Add(ref a, k);
                for (int p = 0; p < pixels; p++, bp = ref Unsafe.Add(ref bp, fs), ap = ref Unsafe.Add(ref ap, ds))
                {
                    var b0 = TLanes.Load(ref bp, 0);
                    s0 = TLanes.MultiplyAdd(b0, TLanes.Create(ap), s0);
                    s1 = TLanes.MultiplyAdd(b0, TLanes.Create(Unsafe.Add(ref ap, 1)), s1);
                    s2 = TLanes.MultiplyAdd(b0, TLanes.Create(Unsafe.Add(ref ap, 2)), s2);
                    s3 = TLanes.MultiplyAdd(b0, TLanes.Create(Unsafe.Add(ref ap, 3)), s3);
                }
                TLanes.Store(ref c0, 0, s0); TLanes.Store(ref c0, (nuint)fs, s1); TLanes.Store(ref c0, 2 * (nuint)fs, s2); TLanes.Store(ref c0, 3 * (nuint)fs, s3);
            }
            for (; k < depth; k++)
            {
                ref float c0 = ref Unsafe.Add(ref c, k * fs + f);
                var s0 = TLanes.Load(ref c0, 0);
                ref float bp = ref Unsafe.Add(ref b, f);
                ref float ap = ref Unsafe.Add(ref a, k);
                for (int p = 0; p < pixels; p++, bp = ref Unsafe.Add(ref bp, fs), ap = ref Unsafe.Add(ref ap, ds))
                    s0 = TLanes.MultiplyAdd(TLanes.Load(ref bp, 0), TLanes.Create(ap), s0);
                TLanes.Store(ref c0, 0, s0);
            }
        }
        // Fewer filters than a vector: the scalar lane (the destination accumulates, so no overlapping vector).
        for (; f < filters; f++)
            for (int k = 0; k < depth; k++)
            {
                float sum = Unsafe.Add(ref c, k * fs + f);
                for (int p = 0; p < pixels; p++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, p * ds + k), Unsafe.Add(ref b, p * fs + f), sum);
                Unsafe.Add(ref c, k * fs + f) = sum;
            }
    }

    /// <summary>
    /// A pointwise convolution's <c>dX[p, c] (+)= Σ_f dY[p, f] · Wᵀ[f, c]</c>: blocks of four pixels by three vectors of
    /// input channels in twelve registers, so each kernel vector loaded feeds four FMAs (one, pixel by pixel).
    /// </summary>
    private ref struct PointwiseInputGradientKernel : ISimdKernel
    {
        public ReadOnlySpan<float> OutputGradient, Kernel;
        public Span<float> InputGradient;
        public int Pixels, InChannels, Filters;
        public bool Accumulate;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            ref float dy0 = ref MemoryMarshal.GetReference(OutputGradient);
            ref float wt = ref MemoryMarshal.GetReference(Kernel);
            ref float dx0 = ref MemoryMarshal.GetReference(InputGradient);
            int lanes = TLanes.Count, cin = InChannels, cout = Filters;
            nuint l = (nuint)lanes;
            nint cs = cin, fs = cout;
            bool accumulate = Accumulate;
            for (int p0 = 0; p0 < Pixels; p0 += PixelsPerTile)
            {
                int p1 = Math.Min(Pixels, p0 + PixelsPerTile), u = 0;
                for (; u + 3 * lanes <= cin; u += 3 * lanes)
                {
                    int p = p0;
                    for (; p + 4 <= p1; p += 4)
                    {
                        ref float d0 = ref Unsafe.Add(ref dx0, p * cs + u);
                        ref float d1 = ref Unsafe.Add(ref d0, cs);
                        ref float d2 = ref Unsafe.Add(ref d1, cs);
                        ref float d3 = ref Unsafe.Add(ref d2, cs);
                        TVector s00, s01, s02, s10, s11, s12, s20, s21, s22, s30, s31, s32;
                        if (accumulate)
                        {
                            s00 = TLanes.Load(ref d0, 0); s01 = TLanes.Load(ref d0, l); s02 = TLanes.Load(ref d0, 2 * l);
                            s10 = TLanes.Load(ref d1, 0); s11 = TLanes.Load(ref d1, l); s12 = TLanes.Load(ref d1, 2 * l);
                            s20 = TLanes.Load(ref d2, 0); s21 = TLanes.Load(ref d2, l); s22 = TLanes.Load(ref d2, 2 * l);
                            s30 = TLanes.Load(ref d3, 0); s31 = TLanes.Load(ref d3, l); s32 = TLanes.Load(ref d3, 2 * l);
                        }
                        else
                        {
                            s00 = s01 = s02 = s10 = s11 = s12 = s20 = s21 = s22 = s30 = s31 = s32 = TLanes.Zero;
                        }
                        ref float g = ref Unsafe.Add(ref dy0, p * fs);
                        ref float w = ref Unsafe.Add(ref wt, u);
                        for (int f = 0; f < cout; f++, g = ref Unsafe.Add(ref g, 1), w = ref Unsafe.Add(ref w, cs))
                        {
                            var w0 = TLanes.Load(ref w, 0);
                            var w1 = TLanes.Load(ref w, l);
                            var w2 = TLanes.Load(ref w, 2 * l);
                            var v = TLanes.Create(g);
                            s00 = TLanes.MultiplyAdd(w0, v, s00);
                            s01 = TLanes.MultiplyAdd(w1, v, s01);
                            s02 = TLanes.MultiplyAdd(w2, v, s02);
                            v = TLanes.Create(Unsafe.Add(ref g, fs));
                            s10 = TLanes.MultiplyAdd(w0, v, s10);
                            s11 = TLanes.MultiplyAdd(w1, v, s11);
                            s12 = TLanes.MultiplyAdd(w2, v, s12);
                            v = TLanes.Create(Unsafe.Add(ref g, 2 * fs));
                            s20 = TLanes.MultiplyAdd(w0, v, s20);
                            s21 = TLanes.MultiplyAdd(w1, v, s21);
                            s22 = TLanes.MultiplyAdd(w2, v, s22);
                            v = TLanes.Create(Unsafe.Add(ref g, 3 * fs));
                            s30 = TLanes.MultiplyAdd(w0, v, s30);
                            s31 = TLanes.MultiplyAdd(w1, v, s31);
                            s32 = TLanes.MultiplyAdd(w2, v, s32);
                        }
                        TLanes.Store(ref d0, 0, s00); TLanes.Store(ref d0, l, s01); TLanes.Store(ref d0, 2 * l, s02);
                        TLanes.Store(ref d1, 0, s10); TLanes.Store(ref d1, l, s11); TLanes.Store(ref d1, 2 * l, s12);
                        TLanes.Store(ref d2, 0, s20); TLanes.Store(ref d2, l, s21); TLanes.Store(ref d2, 2 * l, s22);
                        TLanes.Store(ref d3, 0, s30); TLanes.Store(ref d3, l, s31); TLanes.Store(ref d3, 2 * l, s32);
                    }
                    for (; p < p1; p++)
                        BackwardLoops.WeightedRowSum<TLanes, TVector>(ref Unsafe.Add(ref dy0, p * fs), 1, ref Unsafe.Add(ref wt, u), cs, cout,
                                                                      ref Unsafe.Add(ref dx0, p * cs + u), 3 * lanes, accumulate);
                }
                // The remaining whole vectors of channels, two (eight chains) or one at a time, four pixels per kernel load.
                for (; u + lanes <= cin; u += 2 * lanes)
                {
                    bool two = u + 2 * lanes <= cin;
                    int p = p0;
                    for (; p + 4 <= p1; p += 4)
                    {
                        ref float d0 = ref Unsafe.Add(ref dx0, p * cs + u);
                        ref float d1 = ref Unsafe.Add(ref d0, cs);
                        ref float d2 = ref Unsafe.Add(ref d1, cs);
                        ref float d3 = ref Unsafe.Add(ref d2, cs);
                        TVector s00 = TLanes.Zero, s10 = s00, s20 = s00, s30 = s00, s01 = s00, s11 = s00, s21 = s00, s31 = s00;
                        if (accumulate)
                        {
                            s00 = TLanes.Load(ref d0, 0); s10 = TLanes.Load(ref d1, 0); s20 = TLanes.Load(ref d2, 0); s30 = TLanes.Load(ref d3, 0);
                            if (two)
                            {
                                s01 = TLanes.Load(ref d0, l); s11 = TLanes.Load(ref d1, l); s21 = TLanes.Load(ref d2, l); s31 = TLanes.Load(ref d3, l);
                            }
                        }
                        ref float g = ref Unsafe.Add(ref dy0, p * fs);
                        ref float w = ref Unsafe.Add(ref wt, u);
                        if (two)
                        {
                            for (int f = 0; f < cout; f++, g = ref Unsafe.Add(ref g, 1), w = ref Unsafe.Add(ref w, cs))
                            {
                                var w0 = TLanes.Load(ref w, 0);
                                var w1 = TLanes.Load(ref w, l);
                                var v = TLanes.Create(g);
                                s00 = TLanes.MultiplyAdd(w0, v, s00);
                                s01 = TLanes.MultiplyAdd(w1, v, s01);
                                v = TLanes.Create(Unsafe.Add(ref g, fs));
                                s10 = TLanes.MultiplyAdd(w0, v, s10);
                                s11 = TLanes.MultiplyAdd(w1, v, s11);
                                v = TLanes.Create(Unsafe.Add(ref g, 2 * fs));
                                s20 = TLanes.MultiplyAdd(w0, v, s20);
                                s21 = TLanes.MultiplyAdd(w1, v, s21);
                                v = TLanes.Create(Unsafe.Add(ref g, 3 * fs));
                                s30 = TLanes.MultiplyAdd(w0, v, s30);
                                s31 = TLanes.MultiplyAdd(w1, v, s31);
                            }
                            TLanes.Store(ref d0, l, s01); TLanes.Store(ref d1, l, s11); TLanes.Store(ref d2, l, s21); TLanes.Store(ref d3, l, s31);
                        }
                        else
                        {
                            for (int f = 0; f < cout; f++, g = ref Unsafe.Add(ref g, 1), w = ref Unsafe.Add(ref w, cs))
                            {
                                var w0 = TLanes.Load(ref w, 0);
                                s00 = TLanes.MultiplyAdd(w0, TLanes.Create(g), s00);
                                s10 = TLanes.MultiplyAdd(w0, TLanes.Create(Unsafe.Add(ref g, fs)), s10);
                                s20 = TLanes.MultiplyAdd(w0, TLanes.Create(Unsafe.Add(ref g, 2 * fs)), s20);
                                s30 = TLanes.MultiplyAdd(w0, TLanes.Create(Unsafe.Add(ref g, 3 * fs)), s30);
                            }
                        }
                        TLanes.Store(ref d0, 0, s00); TLanes.Store(ref d1, 0, s10); TLanes.Store(ref d2, 0, s20); TLanes.Store(ref d3, 0, s30);
                    }
                    for (; p < p1; p++)
                        BackwardLoops.WeightedRowSum<TLanes, TVector>(ref Unsafe.Add(ref dy0, p * fs), 1, ref Unsafe.Add(ref wt, u), cs, cout,
                                                                      ref Unsafe.Add(ref dx0, p * cs + u), (two ? 2 : 1) * lanes, accumulate);
                    if (!two) u -= lanes;
                }
                // Fewer channels than a vector: the scalar lane, pixel by pixel.
                if (u < cin)
                    for (int p = p0; p < p1; p++)
                        BackwardLoops.WeightedRowSum<TLanes, TVector>(ref Unsafe.Add(ref dy0, p * fs), 1, ref Unsafe.Add(ref wt, u), cs, cout,
                                                                      ref Unsafe.Add(ref dx0, p * cs + u), cin - u, accumulate);
            }
        }
    }

    private ref struct InputGradientKernel : ISimdKernel
    {
        public ReadOnlySpan<float> OutputGradient, Kernel;
        public Span<float> InputGradient;
        public Conv2DParams Params;
        public RowRange Rows;
        public bool Accumulate;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            var p = Params;
            int cin = p.InputChannels, cout = p.OutputChannels, tapBlock = cin * cout;
            ref float dy0 = ref MemoryMarshal.GetReference(OutputGradient);
            ref float wt0 = ref MemoryMarshal.GetReference(Kernel);
            ref float dx0 = ref MemoryMarshal.GetReference(InputGradient);
            for (int row = Rows.Start; row < Rows.End; row++)
            {
                int n = row / p.InputHeight, iy = row - n * p.InputHeight;
                for (int ix = 0; ix < p.InputWidth; ix++)
                {
                    ref float dx = ref Unsafe.Add(ref dx0, ((nint)row * p.InputWidth + ix) * cin);
                    bool written = Accumulate;
                    for (int ky = 0; ky < p.KernelHeight; ky++)
                    {
                        if (!BackwardLoops.OutputForTap(iy, ky, p.PadTop, p.DilationHeight, p.StrideHeight, p.OutputHeight, out int oy)) continue;
                        for (int kx = 0; kx < p.KernelWidth; kx++)
                        {
                            if (!BackwardLoops.OutputForTap(ix, kx, p.PadLeft, p.DilationWidth, p.StrideWidth, p.OutputWidth, out int ox)) continue;
                            // dX[pixel, :] += Σ_f dY[o, f] · Wᵀ[tap, f, :]: a weighted sum of contiguous kernel rows.
                            BackwardLoops.WeightedRowSum<TLanes, TVector>(
                                ref Unsafe.Add(ref dy0, (((nint)n * p.OutputHeight + oy) * p.OutputWidth + ox) * cout), 1,
                                ref Unsafe.Add(ref wt0, (nint)(ky * p.KernelWidth + kx) * tapBlock), cin, cout,
                                ref dx, cin, written);
                            written = true;
                        }
                    }
                    // A pixel no window reaches (a valid convolution's right/bottom leftovers, or between strides) has no gradient.
                    if (!written) MemoryMarshal.CreateSpan(ref dx, cin).Clear();
                }
            }
        }
    }

    private static void CheckCommon(int outputGradientLength, in Conv2DParams p)
    {
        Conv2DKernels.CheckWindows(p);
        BackwardLoops.CheckLength(outputGradientLength, WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.OutputChannels), "outputGradient");
    }

    private static void CheckExact(int length, long expected, string name)
    {
        if (length != expected) throw new ArgumentException($"{name} has {length} elements, expected {expected}", name);
    }
}
