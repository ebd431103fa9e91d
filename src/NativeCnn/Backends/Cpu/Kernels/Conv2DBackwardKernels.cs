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
        for (int row = outputRows.Start; row < outputRows.End; row++)
        {
            ReadOnlySpan<float> patches;
            if (pointwise)
            {
                // A 1x1 stride-1 unpadded window's patch is the input pixel itself: input rows are the patch rows.
                patches = input.Slice(row * pixels * depth, pixels * depth);
            }
            else
            {
                Conv2DKernels.GatherPatches(input, workspace, in p, new RowRange(row * pixels, (row + 1) * pixels));
                patches = workspace[..(pixels * depth)];
            }
            var body = new KernelGradientKernel
            {
                Patches = patches, OutputGradient = outputGradient.Slice(row * pixels * p.OutputChannels, pixels * p.OutputChannels),
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

    private ref struct KernelGradientKernel : ISimdKernel
    {
        public ReadOnlySpan<float> Patches, OutputGradient;
        public Span<float> KernelGradient;
        public int Pixels, Depth, Filters;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            ref float patches = ref MemoryMarshal.GetReference(Patches);
            ref float dy = ref MemoryMarshal.GetReference(OutputGradient);
            ref float dw = ref MemoryMarshal.GetReference(KernelGradient);
            // Row k of dW gains the row's dY rows weighted by column k of the patches.
            for (int k = 0; k < Depth; k++)
                BackwardLoops.WeightedRowSum<TLanes, TVector>(ref Unsafe.Add(ref patches, k), Depth, ref dy, Filters, Pixels,
                                                              ref Unsafe.Add(ref dw, (nint)k * Filters), Filters, accumulate: true);
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
                        int ty = iy + p.PadTop - ky * p.DilationHeight;
                        if (ty < 0 || ty % p.StrideHeight != 0) continue;
                        int oy = ty / p.StrideHeight;
                        if (oy >= p.OutputHeight) continue;
                        for (int kx = 0; kx < p.KernelWidth; kx++)
                        {
                            int tx = ix + p.PadLeft - kx * p.DilationWidth;
                            if (tx < 0 || tx % p.StrideWidth != 0) continue;
                            int ox = tx / p.StrideWidth;
                            if (ox >= p.OutputWidth) continue;
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
