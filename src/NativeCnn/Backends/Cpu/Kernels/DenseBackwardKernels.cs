using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Gradients of a fully connected layer <c>y = x·W + b</c> (<see cref="DenseKernels"/>; kernel <c>(in, units)</c>, Keras
/// layout), written once over <see cref="ILanes{TVector}"/>. Each kernel is split by rows of what it writes, so disjoint
/// <see cref="RowRange"/>s can run on different threads without partial sums.
/// </summary>
/// <remarks>
/// A fused activation is not differentiated here: the caller first turns <c>dOut</c> into the gradient of the
/// pre-activation sum (<see cref="ActivationBackwardKernels"/>). Sums are float32 fused multiply-adds; NaN propagates.
/// </remarks>
public static class DenseBackwardKernels
{
    /// <summary>
    /// Computes <c>inputGradient[n, i] (+)= Σ_u outputGradient[n, u] · kernel[i, u]</c> (<c>dX = dY·Wᵀ</c>) for batch rows
    /// <paramref name="rows"/>.
    /// </summary>
    /// <param name="outputGradient"><c>(batch, units)</c>.</param>
    /// <param name="kernel"><c>(inputFeatures, units)</c>.</param>
    /// <param name="inputGradient"><c>(batch, inputFeatures)</c>.</param>
    /// <param name="p">Shapes.</param>
    /// <param name="rows">Batch rows to compute.</param>
    /// <param name="accumulate">Add to <paramref name="inputGradient"/> (a fan-out) instead of overwriting it.</param>
    /// <param name="width">The SIMD width (<see cref="SimdWidth.Auto"/>: <see cref="SimdDispatch.Best"/>).</param>
    /// <exception cref="ArgumentException">A span is shorter than the shapes need, or the kernel's length is not <c>in · units</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is outside <c>[0, batch]</c>.</exception>
    public static void InputGradient(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> kernel, Span<float> inputGradient,
                                     in DenseParams p, RowRange rows, bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        CheckShapes(in p);
        BackwardLoops.CheckLength(outputGradient.Length, (long)p.Batch * p.Units, nameof(outputGradient));
        CheckKernel(kernel.Length, in p, nameof(kernel));
        BackwardLoops.CheckLength(inputGradient.Length, (long)p.Batch * p.InputFeatures, nameof(inputGradient));
        BackwardLoops.CheckRows(rows, p.Batch);
        var body = new InputGradientKernel
        {
            OutputGradient = outputGradient, Kernel = kernel, InputGradient = inputGradient, Params = p, Rows = rows, Accumulate = accumulate,
        };
        SimdDispatch.Run(width, ref body);
    }

    /// <summary>
    /// Computes <c>kernelGradient[i, u] (+)= Σ_n input[n, i] · outputGradient[n, u]</c> (<c>dW = Xᵀ·dY</c>) for input
    /// features <paramref name="inputFeatures"/>, summing over the whole batch.
    /// </summary>
    /// <param name="input">The forward input <c>(batch, inputFeatures)</c>.</param>
    /// <param name="outputGradient"><c>(batch, units)</c>.</param>
    /// <param name="kernelGradient"><c>(inputFeatures, units)</c>.</param>
    /// <param name="p">Shapes.</param>
    /// <param name="inputFeatures">Rows of the kernel gradient to compute; disjoint ranges write disjoint rows.</param>
    /// <param name="accumulate">Add to <paramref name="kernelGradient"/> (gradient accumulation) instead of overwriting it.</param>
    /// <param name="width">The SIMD width.</param>
    /// <exception cref="ArgumentException">A span is shorter than the shapes need, or the gradient's length is not <c>in · units</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputFeatures"/> is outside <c>[0, inputFeatures]</c>.</exception>
    public static void KernelGradient(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> kernelGradient,
                                      in DenseParams p, RowRange inputFeatures, bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        CheckShapes(in p);
        BackwardLoops.CheckLength(input.Length, (long)p.Batch * p.InputFeatures, nameof(input));
        BackwardLoops.CheckLength(outputGradient.Length, (long)p.Batch * p.Units, nameof(outputGradient));
        CheckKernel(kernelGradient.Length, in p, nameof(kernelGradient));
        BackwardLoops.CheckRows(inputFeatures, p.InputFeatures, nameof(inputFeatures));
        var body = new KernelGradientKernel
        {
            Input = input, OutputGradient = outputGradient, KernelGradient = kernelGradient, Params = p, Features = inputFeatures, Accumulate = accumulate,
        };
        SimdDispatch.Run(width, ref body);
    }

    /// <summary>
    /// Column sums <c>biasGradient[u] (+)= Σ_r outputGradient[r, u]</c> over <paramref name="rows"/> rows of
    /// <c>biasGradient.Length</c> units: the bias gradient of a dense layer (rows = batch) or of a convolution
    /// (rows = pixels).
    /// </summary>
    /// <param name="outputGradient"><c>(rows, units)</c>.</param>
    /// <param name="biasGradient"><c>(units)</c>.</param>
    /// <param name="rows">The number of rows summed.</param>
    /// <param name="accumulate">Add to <paramref name="biasGradient"/> instead of overwriting it.</param>
    /// <param name="width">The SIMD width.</param>
    /// <exception cref="ArgumentException"><paramref name="outputGradient"/> is shorter than <c>rows · units</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is negative.</exception>
    public static void BiasGradient(ReadOnlySpan<float> outputGradient, Span<float> biasGradient, int rows, bool accumulate,
                                    SimdWidth width = SimdWidth.Auto)
    {
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "the row count must be non-negative");
        BackwardLoops.CheckLength(outputGradient.Length, (long)rows * biasGradient.Length, nameof(outputGradient));
        var body = new ColumnSumKernel { Matrix = outputGradient, Sums = biasGradient, Rows = rows, Accumulate = accumulate };
        SimdDispatch.Run(width, ref body);
    }

    private ref struct InputGradientKernel : ISimdKernel
    {
        public ReadOnlySpan<float> OutputGradient, Kernel;
        public Span<float> InputGradient;
        public DenseParams Params;
        public RowRange Rows;
        public bool Accumulate;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            int features = Params.InputFeatures, units = Params.Units;
            ref float dy0 = ref MemoryMarshal.GetReference(OutputGradient);
            ref float w0 = ref MemoryMarshal.GetReference(Kernel);
            ref float dx0 = ref MemoryMarshal.GetReference(InputGradient);
            for (int n = Rows.Start; n < Rows.End; n++)
            {
                // Kernel rows are contiguous over units, as the gradient row is: each dX value is one dot product.
                ref float dy = ref Unsafe.Add(ref dy0, (nint)n * units);
                ref float dx = ref Unsafe.Add(ref dx0, (nint)n * features);
                for (int i = 0; i < features; i++)
                {
                    float sum = BackwardLoops.Dot<TLanes, TVector>(ref dy, ref Unsafe.Add(ref w0, (nint)i * units), units);
                    Unsafe.Add(ref dx, i) = Accumulate ? Unsafe.Add(ref dx, i) + sum : sum;
                }
            }
        }
    }

    private ref struct KernelGradientKernel : ISimdKernel
    {
        public ReadOnlySpan<float> Input, OutputGradient;
        public Span<float> KernelGradient;
        public DenseParams Params;
        public RowRange Features;
        public bool Accumulate;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            int features = Params.InputFeatures, units = Params.Units;
            ref float x0 = ref MemoryMarshal.GetReference(Input);
            ref float dy0 = ref MemoryMarshal.GetReference(OutputGradient);
            ref float dw0 = ref MemoryMarshal.GetReference(KernelGradient);
            // Row i of dW is the sum over the batch of dY's rows weighted by column i of X.
            for (int i = Features.Start; i < Features.End; i++)
                BackwardLoops.WeightedRowSum<TLanes, TVector>(ref Unsafe.Add(ref x0, i), features, ref dy0, units, Params.Batch,
                                                              ref Unsafe.Add(ref dw0, (nint)i * units), units, Accumulate);
        }
    }

    private ref struct ColumnSumKernel : ISimdKernel
    {
        public ReadOnlySpan<float> Matrix;
        public Span<float> Sums;
        public int Rows;
        public bool Accumulate;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            float one = 1f;
            BackwardLoops.WeightedRowSum<TLanes, TVector>(ref one, 0, ref MemoryMarshal.GetReference(Matrix), Sums.Length, Rows,
                                                          ref MemoryMarshal.GetReference(Sums), Sums.Length, Accumulate);
        }
    }

    private static void CheckShapes(in DenseParams p)
    {
        if (p.Batch < 0 || p.InputFeatures < 0 || p.Units < 0)
            throw new ArgumentException($"Shapes must be non-negative: {p}.", nameof(p));
    }

    private static void CheckKernel(int length, in DenseParams p, string name)
    {
        if (length != (long)p.InputFeatures * p.Units)
            throw new ArgumentException($"{name} has {length} elements, expected {(long)p.InputFeatures * p.Units} ({p.InputFeatures} x {p.Units})", name);
    }
}
