using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Gradients of an NHWC depthwise convolution, kernel <c>(kh, kw, inChannels, depthMultiplier)</c>, output channel
/// <c>c·m + q</c> (<see cref="DepthwiseConv2DKernels"/>), for any strides, dilations and explicit pads. With a depth
/// multiplier of 1 the loops run over channel vectors (every channel is independent); other multipliers run on the
/// scalar lane, correct but slower.
/// </summary>
/// <remarks>
/// As for <see cref="Conv2DBackwardKernels"/>: the input gradient gathers from the output pixels covering each input
/// pixel and is split by input rows; the kernel gradient is split by output rows into caller-owned partial sums.
/// </remarks>
public static class DepthwiseConv2DBackwardKernels
{
    /// <summary>The work rows of <see cref="InputGradient"/>: <c>batch · inputHeight</c>.</summary>
    public static int InputRowCount(in DepthwiseConv2DParams p) => checked(p.Batch * p.InputHeight);

    /// <summary>
    /// Computes input rows <paramref name="inputRows"/> of
    /// <c>inputGradient[n, iy, ix, c] (+)= Σ_{ky,kx,q} outputGradient[n, oy, ox, c·m + q] · kernel[ky, kx, c, q]</c> over the
    /// output pixels with <c>iy = oy·sh + ky·dh − padTop</c>, <c>ix = ox·sw + kx·dw − padLeft</c>.
    /// </summary>
    /// <param name="outputGradient">NHWC <c>(batch, outputHeight, outputWidth, inChannels·m)</c>.</param>
    /// <param name="kernel"><c>(kh, kw, inChannels, m)</c>.</param>
    /// <param name="inputGradient">NHWC <c>(batch, inputHeight, inputWidth, inChannels)</c>.</param>
    /// <param name="p">Shapes and window arithmetic of the forward convolution.</param>
    /// <param name="inputRows">Input rows to compute; disjoint ranges write disjoint values.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> instead of overwriting it.</param>
    /// <param name="width">The SIMD width (<see cref="SimdWidth.Auto"/>: <see cref="SimdDispatch.Best"/>).</param>
    /// <exception cref="ArgumentException">The window arithmetic is out of range or a span is shorter than the shapes need.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputRows"/> is outside <c>[0, batch · inputHeight]</c>.</exception>
    public static void InputGradient(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> kernel, Span<float> inputGradient,
                                     in DepthwiseConv2DParams p, RowRange inputRows, bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        CheckCommon(outputGradient.Length, kernel.Length, nameof(kernel), in p);
        BackwardLoops.CheckLength(inputGradient.Length, WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.InputChannels), nameof(inputGradient));
        BackwardLoops.CheckRows(inputRows, (long)p.Batch * p.InputHeight, nameof(inputRows));
        var body = new InputGradientKernel
        {
            OutputGradient = outputGradient, Kernel = kernel, InputGradient = inputGradient, Params = p, Rows = inputRows, Accumulate = accumulate,
        };
        if (p.DepthMultiplier == 1) SimdDispatch.Run(width, ref body);
        else body.Run<LanesScalar, float>();
    }

    /// <summary>
    /// Computes <c>kernelGradient[ky, kx, c, q] (+)= Σ input[n, oy·sh + ky·dh − padTop, ox·sw + kx·dw − padLeft, c] ·
    /// outputGradient[n, oy, ox, c·m + q]</c> over output rows <paramref name="outputRows"/> (of <see cref="DepthwiseConv2DParams.RowCount"/>).
    /// </summary>
    /// <param name="input">The forward input, NHWC.</param>
    /// <param name="outputGradient">NHWC output gradient.</param>
    /// <param name="kernelGradient"><c>(kh, kw, inChannels, m)</c>: the sum over <paramref name="outputRows"/> only, so threads given disjoint ranges need their own.</param>
    /// <param name="p">Shapes and window arithmetic.</param>
    /// <param name="outputRows">Output rows summed.</param>
    /// <param name="accumulate">Add to <paramref name="kernelGradient"/> instead of overwriting it.</param>
    /// <param name="width">The SIMD width.</param>
    /// <exception cref="ArgumentException">The window arithmetic is out of range or a span is shorter than the shapes need.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputRows"/> is outside <c>[0, batch · outputHeight]</c>.</exception>
    public static void KernelGradient(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> kernelGradient,
                                      in DepthwiseConv2DParams p, RowRange outputRows, bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        CheckCommon(outputGradient.Length, kernelGradient.Length, nameof(kernelGradient), in p);
        BackwardLoops.CheckLength(input.Length, WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.InputChannels), nameof(input));
        BackwardLoops.CheckRows(outputRows, p.RowCount, nameof(outputRows));
        if (!accumulate) kernelGradient.Clear();
        var body = new KernelGradientKernel { Input = input, OutputGradient = outputGradient, KernelGradient = kernelGradient, Params = p, Rows = outputRows };
        if (p.DepthMultiplier == 1) SimdDispatch.Run(width, ref body);
        else body.Run<LanesScalar, float>();
    }

    /// <summary><c>biasGradient[k] (+)= Σ outputGradient[n, oy, ox, k]</c> over output rows <paramref name="outputRows"/>.</summary>
    /// <exception cref="ArgumentException">A span is shorter than the shapes need, or the bias gradient is not <c>inChannels · m</c> long.</exception>
    public static void BiasGradient(ReadOnlySpan<float> outputGradient, Span<float> biasGradient, in DepthwiseConv2DParams p, RowRange outputRows,
                                    bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        CheckWindows(in p);
        BackwardLoops.CheckLength(outputGradient.Length, WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.InputChannels, p.DepthMultiplier), nameof(outputGradient));
        if (biasGradient.Length != (long)p.InputChannels * p.DepthMultiplier)
            throw new ArgumentException($"biasGradient has {biasGradient.Length} elements, expected {(long)p.InputChannels * p.DepthMultiplier}", nameof(biasGradient));
        BackwardLoops.CheckRows(outputRows, p.RowCount, nameof(outputRows));
        int rowLength = p.OutputWidth * p.OutputChannels;
        DenseBackwardKernels.BiasGradient(outputGradient.Slice(outputRows.Start * rowLength, outputRows.Count * rowLength), biasGradient,
                                          outputRows.Count * p.OutputWidth, accumulate, width);
    }

    private ref struct InputGradientKernel : ISimdKernel
    {
        public ReadOnlySpan<float> OutputGradient, Kernel;
        public Span<float> InputGradient;
        public DepthwiseConv2DParams Params;
        public RowRange Rows;
        public bool Accumulate;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            var p = Params;
            int cin = p.InputChannels, m = p.DepthMultiplier, cout = cin * m;
            ref float dy0 = ref MemoryMarshal.GetReference(OutputGradient);
            ref float w0 = ref MemoryMarshal.GetReference(Kernel);
            ref float dx0 = ref MemoryMarshal.GetReference(InputGradient);
            for (int row = Rows.Start; row < Rows.End; row++)
            {
                int n = row / p.InputHeight, iy = row - n * p.InputHeight;
                for (int ix = 0; ix < p.InputWidth; ix++)
                {
                    ref float dx = ref Unsafe.Add(ref dx0, ((nint)row * p.InputWidth + ix) * cin);
                    if (!Accumulate) MemoryMarshal.CreateSpan(ref dx, cin).Clear();
                    for (int ky = 0; ky < p.KernelHeight; ky++)
                    {
                        if (!BackwardLoops.OutputForTap(iy, ky, p.PadTop, p.DilationHeight, p.StrideHeight, p.OutputHeight, out int oy)) continue;
                        for (int kx = 0; kx < p.KernelWidth; kx++)
                        {
                            if (!BackwardLoops.OutputForTap(ix, kx, p.PadLeft, p.DilationWidth, p.StrideWidth, p.OutputWidth, out int ox)) continue;
                            ref float dy = ref Unsafe.Add(ref dy0, (((nint)n * p.OutputHeight + oy) * p.OutputWidth + ox) * cout);
                            ref float w = ref Unsafe.Add(ref w0, (nint)(ky * p.KernelWidth + kx) * cout);
                            if (m == 1)
                            {
                                BackwardLoops.MultiplyAdd<TLanes, TVector>(ref dy, ref w, ref dx, cin);
                                continue;
                            }
                            // Output channel c·m + q and kernel entry (c, q) share one index.
                            for (int c = 0; c < cin; c++)
                            {
                                float sum = Unsafe.Add(ref dx, c);
                                for (int q = 0; q < m; q++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref dy, c * m + q), Unsafe.Add(ref w, c * m + q), sum);
                                Unsafe.Add(ref dx, c) = sum;
                            }
                        }
                    }
                }
            }
        }
    }

    private ref struct KernelGradientKernel : ISimdKernel
    {
        public ReadOnlySpan<float> Input, OutputGradient;
        public Span<float> KernelGradient;
        public DepthwiseConv2DParams Params;
        public RowRange Rows;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            var p = Params;
            int cin = p.InputChannels, m = p.DepthMultiplier, cout = cin * m;
            ref float x0 = ref MemoryMarshal.GetReference(Input);
            ref float dy0 = ref MemoryMarshal.GetReference(OutputGradient);
            ref float dw0 = ref MemoryMarshal.GetReference(KernelGradient);
            for (int row = Rows.Start; row < Rows.End; row++)
            {
                int n = row / p.OutputHeight, oy = row - n * p.OutputHeight;
                for (int ky = 0; ky < p.KernelHeight; ky++)
                {
                    int iy = oy * p.StrideHeight + ky * p.DilationHeight - p.PadTop;
                    if ((uint)iy >= (uint)p.InputHeight) continue;
                    ref float xRow = ref Unsafe.Add(ref x0, ((nint)n * p.InputHeight + iy) * p.InputWidth * cin);
                    for (int kx = 0; kx < p.KernelWidth; kx++)
                    {
                        ref float dw = ref Unsafe.Add(ref dw0, (nint)(ky * p.KernelWidth + kx) * cout);
                        for (int ox = 0; ox < p.OutputWidth; ox++)
                        {
                            int ix = ox * p.StrideWidth + kx * p.DilationWidth - p.PadLeft;
                            if ((uint)ix >= (uint)p.InputWidth) continue;
                            ref float x = ref Unsafe.Add(ref xRow, (nint)ix * cin);
                            ref float dy = ref Unsafe.Add(ref dy0, ((nint)row * p.OutputWidth + ox) * cout);
                            if (m == 1)
                            {
                                BackwardLoops.MultiplyAdd<TLanes, TVector>(ref x, ref dy, ref dw, cin);
                                continue;
                            }
                            for (int c = 0; c < cin; c++)
                            {
                                float xc = Unsafe.Add(ref x, c);
                                for (int q = 0; q < m; q++)
                                    Unsafe.Add(ref dw, c * m + q) = MathF.FusedMultiplyAdd(xc, Unsafe.Add(ref dy, c * m + q), Unsafe.Add(ref dw, c * m + q));
                            }
                        }
                    }
                }
            }
        }
    }

    private static void CheckWindows(in DepthwiseConv2DParams p)
    {
        WindowChecks.Axis("height", p.InputHeight, p.OutputHeight, p.KernelHeight, p.StrideHeight, p.DilationHeight, p.PadTop, p);
        WindowChecks.Axis("width", p.InputWidth, p.OutputWidth, p.KernelWidth, p.StrideWidth, p.DilationWidth, p.PadLeft, p);
        WindowChecks.Rows(p.Batch, p.OutputHeight, p);
        WindowChecks.Rows(p.Batch, p.InputHeight, p);
        if (p.DepthMultiplier < 1) throw new ArgumentException($"The depth multiplier must be positive: {p}.", nameof(p));
        WindowChecks.Channels(p.InputChannels, p.DepthMultiplier, p);
    }

    private static void CheckCommon(int outputGradientLength, int kernelLength, string kernelName, in DepthwiseConv2DParams p)
    {
        CheckWindows(in p);
        BackwardLoops.CheckLength(outputGradientLength, WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.InputChannels, p.DepthMultiplier), "outputGradient");
        long expected = WindowChecks.Count(p.KernelHeight, p.KernelWidth, p.InputChannels, p.DepthMultiplier);
        if (kernelLength != expected) throw new ArgumentException($"{kernelName} has {kernelLength} elements, expected {expected}", kernelName);
    }
}
