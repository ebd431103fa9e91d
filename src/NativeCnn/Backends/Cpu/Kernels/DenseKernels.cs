using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Shapes of one fully connected layer, and how <see cref="DenseKernels.ForwardBlocks"/> splits it into work blocks.</summary>
public readonly record struct DenseParams(int Batch, int InputFeatures, int Units)
{
    /// <summary>
    /// Units per work block: four Vector512 accumulators. The last block also takes the remainder (up to 127 units), so
    /// no block is narrower than a vector unless the layer is.
    /// </summary>
    public const int BlockUnits = 64;

    /// <summary>Batch rows per work block: each kernel row loaded once serves all of them.</summary>
    public const int BlockRows = 4;

    /// <summary>Blocks of units: <c>max(1, Units / BlockUnits)</c>.</summary>
    public int UnitBlocks => Math.Max(1, Units / BlockUnits);

    /// <summary>Groups of up to <see cref="BlockRows"/> batch rows.</summary>
    public int RowGroups => (Batch + BlockRows - 1) / BlockRows;

    /// <summary>
    /// Work blocks: (unit block, row group) pairs, unit block major, so that consecutive blocks read the same kernel
    /// columns (still in cache) for the next rows.
    /// </summary>
    public int BlockCount => UnitBlocks * RowGroups;
}

/// <summary>Fully connected kernels, written once over <see cref="ILanes{TVector}"/>.</summary>
/// <remarks>
/// A dense layer at batch 1 is a matrix-vector product bound by reading the kernel, so each pass streams kernel rows
/// once for four vectors of units of one or four batch rows; splitting the units into blocks lets several threads
/// share one image.
/// </remarks>
public static class DenseKernels
{
    /// <summary>
    /// <c>output[n, u] = act(bias[u] + Σ_i input[n, i] · kernel[i, u])</c> for batch rows <paramref name="rows"/>, all units.
    /// </summary>
    /// <param name="input"><c>(batch, inputFeatures)</c>.</param>
    /// <param name="kernel"><c>(inputFeatures, units)</c>, Keras layout.</param>
    /// <param name="bias"><c>(units)</c>, or empty.</param>
    /// <param name="output"><c>(batch, units)</c>.</param>
    /// <param name="p">Shapes.</param>
    /// <param name="activation">Fused element-wise epilogue (softmax is applied by the caller afterwards).</param>
    /// <param name="rows">Batch rows to compute.</param>
    /// <param name="width">The SIMD width (<see cref="SimdWidth.Auto"/>: <see cref="SimdDispatch.Best"/>).</param>
    public static void Forward<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                            Span<float> output, in DenseParams p, TActivation activation, RowRange rows,
                                            SimdWidth width = SimdWidth.Auto)
        where TActivation : struct, IActivation
        => Dispatch(input, kernel, bias, output, in p, activation, rows, blocks: false, width);

    /// <summary>
    /// The same product as <see cref="Forward"/> for work blocks <paramref name="blocks"/> of
    /// <see cref="DenseParams.BlockCount"/>: each block is a range of units of a group of batch rows.
    /// </summary>
    public static void ForwardBlocks<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                  Span<float> output, in DenseParams p, TActivation activation, RowRange blocks,
                                                  SimdWidth width = SimdWidth.Auto)
        where TActivation : struct, IActivation
        => Dispatch(input, kernel, bias, output, in p, activation, blocks, blocks: true, width);

    // Forward and ForwardBlocks differ only in what the range counts (batch rows or work blocks).
    private static void Dispatch<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                              Span<float> output, in DenseParams p, TActivation activation, RowRange range, bool blocks,
                                              SimdWidth width)
        where TActivation : struct, IActivation
    {
        Check(input.Length, kernel.Length, bias.Length, output.Length, in p, range, blocks ? p.BlockCount : p.Batch);
        var body = new DenseKernel<TActivation>
        {
            Input = input, Kernel = kernel, Bias = bias, Output = output, Params = p, Activation = activation, Range = range, Blocks = blocks,
        };
        SimdDispatch.Run(width, ref body);
    }

    private ref struct DenseKernel<TActivation> : ISimdKernel where TActivation : struct, IActivation
    {
        public ReadOnlySpan<float> Input, Kernel, Bias;
        public Span<float> Output;
        public DenseParams Params;
        public TActivation Activation;
        /// <summary>Batch rows, or work blocks when <see cref="Blocks"/>.</summary>
        public RowRange Range;
        public bool Blocks;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            if (!Blocks)
            {
                Range<TLanes, TVector, TActivation>(Input, Kernel, Bias, Output, in Params, Activation, Range.Start, Range.End, 0, Params.Units);
                return;
            }
            for (int block = Range.Start; block < Range.End; block++)
            {
                var (n0, n1, u0, u1) = BlockBounds(in Params, block);
                Range<TLanes, TVector, TActivation>(Input, Kernel, Bias, Output, in Params, Activation, n0, n1, u0, u1);
            }
        }
    }

    private static (int RowStart, int RowEnd, int UnitStart, int UnitEnd) BlockBounds(in DenseParams p, int block)
    {
        int groups = p.RowGroups, unitBlock = block / groups, group = block - unitBlock * groups;
        int u0 = unitBlock * DenseParams.BlockUnits;
        int u1 = unitBlock == p.UnitBlocks - 1 ? p.Units : u0 + DenseParams.BlockUnits;
        int n0 = group * DenseParams.BlockRows;
        return (n0, Math.Min(n0 + DenseParams.BlockRows, p.Batch), u0, u1);
    }

    /// <summary>
    /// Batch rows <c>[n0, n1)</c>, units <c>[u0, u1)</c>: four rows at a time where there are four, then one; fewer
    /// units than lanes run on the scalar lane.
    /// </summary>
    // Every helper is compiled optimized at once: the entry points' AggressiveOptimization does not reach callees that are
    // not inlined, and a tier-0 inner loop ran at half speed until tiering caught up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Range<TLanes, TVector, TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                            Span<float> output, in DenseParams p, TActivation activation, int n0, int n1, int u0, int u1)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation
    {
        if (u1 - u0 < TLanes.Count)
        {
            Range<LanesScalar, float, TActivation>(input, kernel, bias, output, in p, activation, n0, n1, u0, u1);
            return;
        }
        int n = n0;
        for (; n + 4 <= n1; n += 4) FourRows<TLanes, TVector, TActivation>(input, kernel, bias, output, in p, activation, n, u0, u1);
        for (; n < n1; n++) Row<TLanes, TVector, TActivation>(input, kernel, bias, output, in p, activation, n, u0, u1);
    }

    /// <summary>One batch row, units <c>[u0, u1)</c> with <c>u1 - u0 ≥ TLanes.Count</c>: eight FMA chains (four vectors of units, even and odd input features).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<TLanes, TVector, TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                          Span<float> output, in DenseParams p, TActivation activation, int n, int u0, int u1)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation
    {
        int lanes = TLanes.Count, features = p.InputFeatures, units = p.Units;
        nint kernelStride = units;
        bool hasBias = !bias.IsEmpty;
        ref float b = ref MemoryMarshal.GetReference(bias);
        ref float k0 = ref MemoryMarshal.GetReference(kernel);
        ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), (nint)n * features);
        ref float y = ref Unsafe.Add(ref MemoryMarshal.GetReference(output), (nint)n * units);
        int u = u0;
        for (; u + 4 * lanes <= u1; u += 4 * lanes)
        {
            Bias4<TLanes, TVector>(hasBias, ref b, u, out var a0, out var a1, out var a2, out var a3);
            // A second set of accumulators for odd features: the FMA latency, not the loads, would bound four chains.
            TVector b0 = TLanes.Zero, b1 = b0, b2 = b0, b3 = b0;
            ref float k = ref Unsafe.Add(ref k0, u);
            int i = 0;
            for (; i + 2 <= features; i += 2, k = ref Unsafe.Add(ref k, 2 * kernelStride))
            {
                var xi = TLanes.Create(Unsafe.Add(ref x, i));
                var xj = TLanes.Create(Unsafe.Add(ref x, i + 1));
                MultiplyAdd4<TLanes, TVector>(ref k, xi, ref a0, ref a1, ref a2, ref a3);
                MultiplyAdd4<TLanes, TVector>(ref Unsafe.Add(ref k, kernelStride), xj, ref b0, ref b1, ref b2, ref b3);
            }
            if (i < features)
                MultiplyAdd4<TLanes, TVector>(ref k, TLanes.Create(Unsafe.Add(ref x, i)), ref a0, ref a1, ref a2, ref a3);
            Store4<TLanes, TVector, TActivation>(activation, ref Unsafe.Add(ref y, u),
                TLanes.Add(a0, b0), TLanes.Add(a1, b1), TLanes.Add(a2, b2), TLanes.Add(a3, b3));
        }
        // Output never aliases input, so the last vector may overlap the previous one (inside [u0, u1)) instead of a scalar tail.
        for (; u < u1; u += lanes)
        {
            int at = Math.Min(u, u1 - lanes);
            var acc = hasBias ? TLanes.Load(ref b, (nuint)at) : TLanes.Zero;
            ref float k = ref Unsafe.Add(ref k0, at);
            for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
                acc = TLanes.MultiplyAdd(TLanes.Load(ref k, 0), TLanes.Create(Unsafe.Add(ref x, i)), acc);
            TLanes.Store(ref y, (nuint)at, activation.Invoke<TLanes, TVector>(acc));
        }
    }

    /// <summary>
    /// Batch rows <c>[n, n + 4)</c>, units <c>[u0, u1)</c> with <c>u1 - u0 ≥ TLanes.Count</c>: each kernel vector loaded
    /// once feeds four rows (sixteen accumulators), a quarter of the kernel traffic of one row at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRows<TLanes, TVector, TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                               Span<float> output, in DenseParams p, TActivation activation, int n, int u0, int u1)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation
    {
        int lanes = TLanes.Count, features = p.InputFeatures, units = p.Units;
        nuint l = (nuint)lanes;
        nint kernelStride = units, inputStride = features, outputStride = units;
        bool hasBias = !bias.IsEmpty;
        ref float b = ref MemoryMarshal.GetReference(bias);
        ref float k0 = ref MemoryMarshal.GetReference(kernel);
        ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), n * inputStride);
        ref float x1 = ref Unsafe.Add(ref x0, inputStride);
        ref float x2 = ref Unsafe.Add(ref x1, inputStride);
        ref float x3 = ref Unsafe.Add(ref x2, inputStride);
        ref float y = ref Unsafe.Add(ref MemoryMarshal.GetReference(output), n * outputStride);
        int u = u0;
        for (; u + 4 * lanes <= u1; u += 4 * lanes)
        {
            Bias4<TLanes, TVector>(hasBias, ref b, u, out var c0, out var c1, out var c2, out var c3);
            // Row r's accumulators are a{r}{0..3}.
            TVector a00 = c0, a01 = c1, a02 = c2, a03 = c3, a10 = c0, a11 = c1, a12 = c2, a13 = c3;
            TVector a20 = c0, a21 = c1, a22 = c2, a23 = c3, a30 = c0, a31 = c1, a32 = c2, a33 = c3;
            ref float k = ref Unsafe.Add(ref k0, u);
            for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
            {
                var kv0 = TLanes.Load(ref k, 0);
                var kv1 = TLanes.Load(ref k, l);
                var kv2 = TLanes.Load(ref k, 2 * l);
                var kv3 = TLanes.Load(ref k, 3 * l);
                MultiplyAdd4<TLanes, TVector>(kv0, kv1, kv2, kv3, TLanes.Create(Unsafe.Add(ref x0, i)),
                                              ref a00, ref a01, ref a02, ref a03);
                MultiplyAdd4<TLanes, TVector>(kv0, kv1, kv2, kv3, TLanes.Create(Unsafe.Add(ref x1, i)),
                                              ref a10, ref a11, ref a12, ref a13);
                MultiplyAdd4<TLanes, TVector>(kv0, kv1, kv2, kv3, TLanes.Create(Unsafe.Add(ref x2, i)),
                                              ref a20, ref a21, ref a22, ref a23);
                MultiplyAdd4<TLanes, TVector>(kv0, kv1, kv2, kv3, TLanes.Create(Unsafe.Add(ref x3, i)),
                                              ref a30, ref a31, ref a32, ref a33);
            }
            ref float o = ref Unsafe.Add(ref y, u);
            Store4<TLanes, TVector, TActivation>(activation, ref o, a00, a01, a02, a03);
            Store4<TLanes, TVector, TActivation>(activation, ref Unsafe.Add(ref o, outputStride), a10, a11, a12, a13);
            Store4<TLanes, TVector, TActivation>(activation, ref Unsafe.Add(ref o, 2 * outputStride), a20, a21, a22, a23);
            Store4<TLanes, TVector, TActivation>(activation, ref Unsafe.Add(ref o, 3 * outputStride), a30, a31, a32, a33);
        }
        for (; u < u1; u += lanes)
        {
            int at = Math.Min(u, u1 - lanes);
            var c = hasBias ? TLanes.Load(ref b, (nuint)at) : TLanes.Zero;
            TVector a0 = c, a1 = c, a2 = c, a3 = c;
            ref float k = ref Unsafe.Add(ref k0, at);
            for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
            {
                var kv = TLanes.Load(ref k, 0);
                a0 = TLanes.MultiplyAdd(kv, TLanes.Create(Unsafe.Add(ref x0, i)), a0);
                a1 = TLanes.MultiplyAdd(kv, TLanes.Create(Unsafe.Add(ref x1, i)), a1);
                a2 = TLanes.MultiplyAdd(kv, TLanes.Create(Unsafe.Add(ref x2, i)), a2);
                a3 = TLanes.MultiplyAdd(kv, TLanes.Create(Unsafe.Add(ref x3, i)), a3);
            }
            ref float o = ref Unsafe.Add(ref y, at);
            TLanes.Store(ref o, 0, activation.Invoke<TLanes, TVector>(a0));
            TLanes.Store(ref Unsafe.Add(ref o, outputStride), 0, activation.Invoke<TLanes, TVector>(a1));
            TLanes.Store(ref Unsafe.Add(ref o, 2 * outputStride), 0, activation.Invoke<TLanes, TVector>(a2));
            TLanes.Store(ref Unsafe.Add(ref o, 3 * outputStride), 0, activation.Invoke<TLanes, TVector>(a3));
        }
    }

    /// <summary>The bias of units <c>[u, u + 4·lanes)</c> as four vectors, or zeros when the layer has no bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Bias4<TLanes, TVector>(bool hasBias, ref float b, int u, out TVector v0, out TVector v1, out TVector v2, out TVector v3)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        if (!hasBias)
        {
            v0 = v1 = v2 = v3 = TLanes.Zero;
            return;
        }
        nuint l = (nuint)TLanes.Count;
        v0 = TLanes.Load(ref b, (nuint)u);
        v1 = TLanes.Load(ref b, (nuint)u + l);
        v2 = TLanes.Load(ref b, (nuint)u + 2 * l);
        v3 = TLanes.Load(ref b, (nuint)u + 3 * l);
    }

    /// <summary>
    /// <c>a_j += k_j · x</c> for the four kernel vectors of units <c>[u, u + 4·lanes)</c>, loaded from <paramref name="k"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyAdd4<TLanes, TVector>(ref float k, TVector x,
                                                      ref TVector a0, ref TVector a1, ref TVector a2, ref TVector a3)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        // Each load stays inside its multiply-add, so the JIT folds it into the FMA's memory operand; loading all four
        // first (into the overload below) cost four extra instructions per step.
        nuint l = (nuint)TLanes.Count;
        a0 = TLanes.MultiplyAdd(TLanes.Load(ref k, 0), x, a0);
        a1 = TLanes.MultiplyAdd(TLanes.Load(ref k, l), x, a1);
        a2 = TLanes.MultiplyAdd(TLanes.Load(ref k, 2 * l), x, a2);
        a3 = TLanes.MultiplyAdd(TLanes.Load(ref k, 3 * l), x, a3);
    }

    /// <summary><c>a_j += k_j · x</c> for four kernel vectors already loaded (shared by the four rows of <see cref="FourRows"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyAdd4<TLanes, TVector>(TVector k0, TVector k1, TVector k2, TVector k3, TVector x,
                                                      ref TVector a0, ref TVector a1, ref TVector a2, ref TVector a3)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        a0 = TLanes.MultiplyAdd(k0, x, a0);
        a1 = TLanes.MultiplyAdd(k1, x, a1);
        a2 = TLanes.MultiplyAdd(k2, x, a2);
        a3 = TLanes.MultiplyAdd(k3, x, a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4<TLanes, TVector, TActivation>(TActivation activation, ref float o, TVector v0, TVector v1, TVector v2, TVector v3)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation
    {
        nuint l = (nuint)TLanes.Count;
        TLanes.Store(ref o, 0, activation.Invoke<TLanes, TVector>(v0));
        TLanes.Store(ref o, l, activation.Invoke<TLanes, TVector>(v1));
        TLanes.Store(ref o, 2 * l, activation.Invoke<TLanes, TVector>(v2));
        TLanes.Store(ref o, 3 * l, activation.Invoke<TLanes, TVector>(v3));
    }

    private static void Check(int inputLength, int kernelLength, int biasLength, int outputLength, in DenseParams p, RowRange rows, int rowCount)
    {
        if (inputLength < (long)p.Batch * p.InputFeatures)
            throw new ArgumentException($"input has {inputLength} elements, the shapes need {(long)p.Batch * p.InputFeatures}");
        if (kernelLength != (long)p.InputFeatures * p.Units)
            throw new ArgumentException($"kernel has {kernelLength} elements, expected {(long)p.InputFeatures * p.Units}");
        if (biasLength != 0 && biasLength != p.Units)
            throw new ArgumentException($"bias has {biasLength} elements, expected {p.Units} or none");
        if (outputLength < (long)p.Batch * p.Units)
            throw new ArgumentException($"output has {outputLength} elements, the shapes need {(long)p.Batch * p.Units}");
        if (rows.Start < 0 || rows.End > rowCount || rows.Start > rows.End)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must lie in [0, {rowCount})");
    }
}
