using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Gradients of the element-wise activations (<see cref="IActivationGradient"/>) and of softmax over the last axis,
/// written once over <see cref="ILanes{TVector}"/>. A caller that threads them passes disjoint slices.
/// </summary>
/// <remarks>
/// The input gradient may be the output-gradient span itself (in place): tails run on the scalar lane over the same
/// body instead of an overlapping vector, so no element is processed twice.
/// </remarks>
public static class ActivationBackwardKernels
{
    /// <summary>
    /// Computes <c>inputGradient[i] = gradient(saved[i], outputGradient[i])</c>, i.e. <c>dOut · f′</c>, where
    /// <paramref name="saved"/> is the forward input or output as <see cref="IActivationGradient.UsesOutput"/> says.
    /// </summary>
    /// <param name="saved">The forward input <c>x</c> or output <c>y</c>.</param>
    /// <param name="outputGradient"><c>dOut</c>, as long as <paramref name="saved"/>.</param>
    /// <param name="inputGradient"><c>dIn</c>, as long; may be <paramref name="outputGradient"/>.</param>
    /// <param name="gradient">The activation's gradient.</param>
    /// <param name="width">The SIMD width (<see cref="SimdWidth.Auto"/>: <see cref="SimdDispatch.Best"/>).</param>
    /// <exception cref="ArgumentException">The spans' lengths differ.</exception>
    public static void Apply<TGradient>(ReadOnlySpan<float> saved, ReadOnlySpan<float> outputGradient, Span<float> inputGradient,
                                        TGradient gradient, SimdWidth width = SimdWidth.Auto)
        where TGradient : struct, IActivationGradient
    {
        if (outputGradient.Length != saved.Length || inputGradient.Length != saved.Length)
            throw new ArgumentException($"saved has {saved.Length} values, outputGradient {outputGradient.Length} and inputGradient {inputGradient.Length}: they must be equal");
        var body = new ApplyKernel<TGradient> { Saved = saved, OutputGradient = outputGradient, InputGradient = inputGradient, Gradient = gradient };
        SimdDispatch.Run(width, ref body);
    }

    /// <summary>
    /// Softmax over rows of <paramref name="rowLength"/> values, from its output <c>y</c>:
    /// <c>inputGradient[r, j] = y[r, j] · (outputGradient[r, j] − Σ_k outputGradient[r, k] · y[r, k])</c> (TensorFlow's
    /// <c>SoftmaxGrad</c>). <paramref name="inputGradient"/> may be <paramref name="outputGradient"/>.
    /// </summary>
    /// <param name="output">The forward softmax output, <c>(rows, rowLength)</c>.</param>
    /// <param name="outputGradient"><c>dOut</c>, as long.</param>
    /// <param name="inputGradient"><c>dIn</c>, as long.</param>
    /// <param name="rowLength">The length of the last axis.</param>
    /// <param name="width">The SIMD width.</param>
    /// <exception cref="ArgumentException">The lengths differ or are not a multiple of <paramref name="rowLength"/>.</exception>
    public static void Softmax(ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int rowLength,
                               SimdWidth width = SimdWidth.Auto)
    {
        if (rowLength <= 0) throw new ArgumentOutOfRangeException(nameof(rowLength), rowLength, "the softmax axis must have at least one value");
        if (outputGradient.Length != output.Length || inputGradient.Length != output.Length || output.Length % rowLength != 0)
            throw new ArgumentException($"output has {output.Length} values, outputGradient {outputGradient.Length} and inputGradient {inputGradient.Length}: "
                                        + $"they must be equal and a multiple of the row length {rowLength}");
        var body = new SoftmaxKernel { Output = output, OutputGradient = outputGradient, InputGradient = inputGradient, RowLength = rowLength };
        SimdDispatch.Run(width, ref body);
    }

    private ref struct ApplyKernel<TGradient> : ISimdKernel where TGradient : struct, IActivationGradient
    {
        public ReadOnlySpan<float> Saved, OutputGradient;
        public Span<float> InputGradient;
        public TGradient Gradient;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            ref float s = ref MemoryMarshal.GetReference(Saved);
            ref float dy = ref MemoryMarshal.GetReference(OutputGradient);
            ref float dx = ref MemoryMarshal.GetReference(InputGradient);
            int length = Saved.Length, i = Body<TLanes, TVector>(ref s, ref dy, ref dx, 0, length, Gradient);
            Body<LanesScalar, float>(ref s, ref dy, ref dx, i, length, Gradient);
        }

        /// <summary>Whole vectors from <paramref name="start"/>; returns where they stopped.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static int Body<TLanes, TVector>(ref float s, ref float dy, ref float dx, int start, int length, TGradient gradient)
            where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            int lanes = TLanes.Count, i = start;
            for (; i + lanes <= length; i += lanes)
                TLanes.Store(ref dx, (nuint)i, gradient.Invoke<TLanes, TVector>(TLanes.Load(ref s, (nuint)i), TLanes.Load(ref dy, (nuint)i)));
            return i;
        }
    }

    private ref struct SoftmaxKernel : ISimdKernel
    {
        public ReadOnlySpan<float> Output, OutputGradient;
        public Span<float> InputGradient;
        public int RowLength;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            int lanes = TLanes.Count, length = RowLength;
            ref float y0 = ref MemoryMarshal.GetReference(Output);
            ref float dy0 = ref MemoryMarshal.GetReference(OutputGradient);
            ref float dx0 = ref MemoryMarshal.GetReference(InputGradient);
            for (int start = 0; start < Output.Length; start += length)
            {
                ref float y = ref Unsafe.Add(ref y0, start);
                ref float dy = ref Unsafe.Add(ref dy0, start);
                ref float dx = ref Unsafe.Add(ref dx0, start);
                // The whole row's dot product comes first: dx may be dy.
                float d = BackwardLoops.Dot<TLanes, TVector>(ref dy, ref y, length);
                var dot = TLanes.Create(d);
                int j = 0;
                for (; j + lanes <= length; j += lanes)
                    TLanes.Store(ref dx, (nuint)j, TLanes.Multiply(TLanes.Subtract(TLanes.Load(ref dy, (nuint)j), dot), TLanes.Load(ref y, (nuint)j)));
                for (; j < length; j++) Unsafe.Add(ref dx, j) = (Unsafe.Add(ref dy, j) - d) * Unsafe.Add(ref y, j);
            }
        }
    }
}
