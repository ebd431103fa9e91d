using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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

/// <summary>Fully connected kernels.</summary>
/// <remarks>
/// A dense layer at batch 1 is a matrix-vector product bound by reading the kernel, so each pass streams kernel rows
/// once for 64 units of one or four batch rows; splitting the units into blocks lets several threads share one image.
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
    public static void Forward<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                            Span<float> output, in DenseParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
    {
        if (Vector512.IsHardwareAccelerated) ForwardVector512(input, kernel, bias, output, in p, activation, rows);
        else ForwardVector256(input, kernel, bias, output, in p, activation, rows);
    }

    /// <summary>
    /// The same product as <see cref="Forward"/> for work blocks <paramref name="blocks"/> of
    /// <see cref="DenseParams.BlockCount"/>: each block is a range of units of a group of batch rows.
    /// </summary>
    public static void ForwardBlocks<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                  Span<float> output, in DenseParams p, TActivation activation, RowRange blocks)
        where TActivation : struct, IActivation
    {
        if (Vector512.IsHardwareAccelerated) ForwardBlocksVector512(input, kernel, bias, output, in p, activation, blocks);
        else ForwardBlocksVector256(input, kernel, bias, output, in p, activation, blocks);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardVector512<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                       Span<float> output, in DenseParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
    {
        Check(input.Length, kernel.Length, bias.Length, output.Length, in p, rows, p.Batch);
        RangeVector512(input, kernel, bias, output, in p, activation, rows.Start, rows.End, 0, p.Units);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardVector256<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                       Span<float> output, in DenseParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
    {
        Check(input.Length, kernel.Length, bias.Length, output.Length, in p, rows, p.Batch);
        for (int n = rows.Start; n < rows.End; n++) RowVector256(input, kernel, bias, output, in p, activation, n, 0, p.Units);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardBlocksVector512<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                             Span<float> output, in DenseParams p, TActivation activation, RowRange blocks)
        where TActivation : struct, IActivation
    {
        Check(input.Length, kernel.Length, bias.Length, output.Length, in p, blocks, p.BlockCount);
        for (int block = blocks.Start; block < blocks.End; block++)
        {
            var (n0, n1, u0, u1) = BlockBounds(in p, block);
            RangeVector512(input, kernel, bias, output, in p, activation, n0, n1, u0, u1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardBlocksVector256<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                             Span<float> output, in DenseParams p, TActivation activation, RowRange blocks)
        where TActivation : struct, IActivation
    {
        Check(input.Length, kernel.Length, bias.Length, output.Length, in p, blocks, p.BlockCount);
        for (int block = blocks.Start; block < blocks.End; block++)
        {
            var (n0, n1, u0, u1) = BlockBounds(in p, block);
            for (int n = n0; n < n1; n++) RowVector256(input, kernel, bias, output, in p, activation, n, u0, u1);
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

    /// <summary>Batch rows <c>[n0, n1)</c>, units <c>[u0, u1)</c>: four rows at a time where there are four, then one.</summary>
    // Every helper is compiled optimized at once: the entry points' AggressiveOptimization does not reach callees that are
    // not inlined, and a tier-0 inner loop ran at half speed until tiering caught up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RangeVector512<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                    Span<float> output, in DenseParams p, TActivation activation, int n0, int n1, int u0, int u1)
        where TActivation : struct, IActivation
    {
        int n = n0;
        if (u1 - u0 >= 16)
            for (; n + 4 <= n1; n += 4) FourRowsVector512(input, kernel, bias, output, in p, activation, n, u0, u1);
        for (; n < n1; n++) RowVector512(input, kernel, bias, output, in p, activation, n, u0, u1);
    }

    /// <summary>One batch row, units <c>[u0, u1)</c>: eight FMA chains (64 units, even and odd input features).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowVector512<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                  Span<float> output, in DenseParams p, TActivation activation, int n, int u0, int u1)
        where TActivation : struct, IActivation
    {
        int features = p.InputFeatures, units = p.Units;
        nint kernelStride = units;
        bool hasBias = !bias.IsEmpty;
        ref float b = ref MemoryMarshal.GetReference(bias);
        ref float k0 = ref MemoryMarshal.GetReference(kernel);
        ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), (nint)n * features);
        ref float y = ref Unsafe.Add(ref MemoryMarshal.GetReference(output), (nint)n * units);
        if (u1 - u0 < 16)
        {
            ScalarUnits(ref x, features, ref k0, kernelStride, ref b, hasBias, ref y, u0, u1, activation);
            return;
        }
        int u = u0;
        for (; u + 64 <= u1; u += 64)
        {
            Vector512<float> a0, a1, a2, a3;
            if (hasBias)
            {
                a0 = Vector512.LoadUnsafe(ref b, (nuint)u);
                a1 = Vector512.LoadUnsafe(ref b, (nuint)u + 16);
                a2 = Vector512.LoadUnsafe(ref b, (nuint)u + 32);
                a3 = Vector512.LoadUnsafe(ref b, (nuint)u + 48);
            }
            else a0 = a1 = a2 = a3 = Vector512<float>.Zero;
            // A second set of accumulators for odd features: the FMA latency, not the loads, would bound four chains.
            Vector512<float> b0 = Vector512<float>.Zero, b1 = b0, b2 = b0, b3 = b0;
            ref float k = ref Unsafe.Add(ref k0, u);
            int i = 0;
            for (; i + 2 <= features; i += 2, k = ref Unsafe.Add(ref k, 2 * kernelStride))
            {
                var xi = Vector512.Create(Unsafe.Add(ref x, i));
                var xj = Vector512.Create(Unsafe.Add(ref x, i + 1));
                ref float kj = ref Unsafe.Add(ref k, kernelStride);
                a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k), xi, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k, 16), xi, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k, 32), xi, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k, 48), xi, a3);
                b0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref kj), xj, b0);
                b1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref kj, 16), xj, b1);
                b2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref kj, 32), xj, b2);
                b3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref kj, 48), xj, b3);
            }
            if (i < features)
            {
                var xi = Vector512.Create(Unsafe.Add(ref x, i));
                a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k), xi, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k, 16), xi, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k, 32), xi, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k, 48), xi, a3);
            }
            ref float o = ref Unsafe.Add(ref y, u);
            activation.Invoke(a0 + b0).StoreUnsafe(ref o);
            activation.Invoke(a1 + b1).StoreUnsafe(ref o, 16);
            activation.Invoke(a2 + b2).StoreUnsafe(ref o, 32);
            activation.Invoke(a3 + b3).StoreUnsafe(ref o, 48);
        }
        // Output never aliases input, so the last vector may overlap the previous one (inside [u0, u1)) instead of a scalar tail.
        for (; u < u1; u += 16)
        {
            int at = Math.Min(u, u1 - 16);
            var acc = hasBias ? Vector512.LoadUnsafe(ref b, (nuint)at) : Vector512<float>.Zero;
            ref float k = ref Unsafe.Add(ref k0, at);
            for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k), Vector512.Create(Unsafe.Add(ref x, i)), acc);
            activation.Invoke(acc).StoreUnsafe(ref y, (nuint)at);
        }
    }

    /// <summary>
    /// Batch rows <c>[n, n + 4)</c>, units <c>[u0, u1)</c> with <c>u1 - u0 ≥ 16</c>: each kernel vector loaded once feeds
    /// four rows (sixteen accumulators), a quarter of the kernel traffic of one row at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRowsVector512<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                       Span<float> output, in DenseParams p, TActivation activation, int n, int u0, int u1)
        where TActivation : struct, IActivation
    {
        int features = p.InputFeatures, units = p.Units;
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
        for (; u + 64 <= u1; u += 64)
        {
            Vector512<float> c0, c1, c2, c3;
            if (hasBias)
            {
                c0 = Vector512.LoadUnsafe(ref b, (nuint)u);
                c1 = Vector512.LoadUnsafe(ref b, (nuint)u + 16);
                c2 = Vector512.LoadUnsafe(ref b, (nuint)u + 32);
                c3 = Vector512.LoadUnsafe(ref b, (nuint)u + 48);
            }
            else c0 = c1 = c2 = c3 = Vector512<float>.Zero;
            // Row r's accumulators are a{r}{0..3}.
            Vector512<float> a00 = c0, a01 = c1, a02 = c2, a03 = c3, a10 = c0, a11 = c1, a12 = c2, a13 = c3;
            Vector512<float> a20 = c0, a21 = c1, a22 = c2, a23 = c3, a30 = c0, a31 = c1, a32 = c2, a33 = c3;
            ref float k = ref Unsafe.Add(ref k0, u);
            for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
            {
                var k00 = Vector512.LoadUnsafe(ref k);
                var k16 = Vector512.LoadUnsafe(ref k, 16);
                var k32 = Vector512.LoadUnsafe(ref k, 32);
                var k48 = Vector512.LoadUnsafe(ref k, 48);
                var v = Vector512.Create(Unsafe.Add(ref x0, i));
                a00 = Vector512.FusedMultiplyAdd(k00, v, a00);
                a01 = Vector512.FusedMultiplyAdd(k16, v, a01);
                a02 = Vector512.FusedMultiplyAdd(k32, v, a02);
                a03 = Vector512.FusedMultiplyAdd(k48, v, a03);
                v = Vector512.Create(Unsafe.Add(ref x1, i));
                a10 = Vector512.FusedMultiplyAdd(k00, v, a10);
                a11 = Vector512.FusedMultiplyAdd(k16, v, a11);
                a12 = Vector512.FusedMultiplyAdd(k32, v, a12);
                a13 = Vector512.FusedMultiplyAdd(k48, v, a13);
                v = Vector512.Create(Unsafe.Add(ref x2, i));
                a20 = Vector512.FusedMultiplyAdd(k00, v, a20);
                a21 = Vector512.FusedMultiplyAdd(k16, v, a21);
                a22 = Vector512.FusedMultiplyAdd(k32, v, a22);
                a23 = Vector512.FusedMultiplyAdd(k48, v, a23);
                v = Vector512.Create(Unsafe.Add(ref x3, i));
                a30 = Vector512.FusedMultiplyAdd(k00, v, a30);
                a31 = Vector512.FusedMultiplyAdd(k16, v, a31);
                a32 = Vector512.FusedMultiplyAdd(k32, v, a32);
                a33 = Vector512.FusedMultiplyAdd(k48, v, a33);
            }
            ref float o = ref Unsafe.Add(ref y, u);
            Store4(activation, ref o, a00, a01, a02, a03);
            Store4(activation, ref Unsafe.Add(ref o, outputStride), a10, a11, a12, a13);
            Store4(activation, ref Unsafe.Add(ref o, 2 * outputStride), a20, a21, a22, a23);
            Store4(activation, ref Unsafe.Add(ref o, 3 * outputStride), a30, a31, a32, a33);
        }
        for (; u < u1; u += 16)
        {
            int at = Math.Min(u, u1 - 16);
            var c = hasBias ? Vector512.LoadUnsafe(ref b, (nuint)at) : Vector512<float>.Zero;
            Vector512<float> a0 = c, a1 = c, a2 = c, a3 = c;
            ref float k = ref Unsafe.Add(ref k0, at);
            for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
            {
                var kv = Vector512.LoadUnsafe(ref k);
                a0 = Vector512.FusedMultiplyAdd(kv, Vector512.Create(Unsafe.Add(ref x0, i)), a0);
                a1 = Vector512.FusedMultiplyAdd(kv, Vector512.Create(Unsafe.Add(ref x1, i)), a1);
                a2 = Vector512.FusedMultiplyAdd(kv, Vector512.Create(Unsafe.Add(ref x2, i)), a2);
                a3 = Vector512.FusedMultiplyAdd(kv, Vector512.Create(Unsafe.Add(ref x3, i)), a3);
            }
            ref float o = ref Unsafe.Add(ref y, at);
            activation.Invoke(a0).StoreUnsafe(ref o);
            activation.Invoke(a1).StoreUnsafe(ref Unsafe.Add(ref o, outputStride));
            activation.Invoke(a2).StoreUnsafe(ref Unsafe.Add(ref o, 2 * outputStride));
            activation.Invoke(a3).StoreUnsafe(ref Unsafe.Add(ref o, 3 * outputStride));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4<TActivation>(TActivation activation, ref float o, Vector512<float> v0, Vector512<float> v1,
                                            Vector512<float> v2, Vector512<float> v3)
        where TActivation : struct, IActivation
    {
        activation.Invoke(v0).StoreUnsafe(ref o);
        activation.Invoke(v1).StoreUnsafe(ref o, 16);
        activation.Invoke(v2).StoreUnsafe(ref o, 32);
        activation.Invoke(v3).StoreUnsafe(ref o, 48);
    }

    /// <summary>One batch row, units <c>[u0, u1)</c>, at the 256-bit width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowVector256<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                  Span<float> output, in DenseParams p, TActivation activation, int n, int u0, int u1)
        where TActivation : struct, IActivation
    {
        int features = p.InputFeatures, units = p.Units;
        nint kernelStride = units;
        bool hasBias = !bias.IsEmpty;
        ref float b = ref MemoryMarshal.GetReference(bias);
        ref float k0 = ref MemoryMarshal.GetReference(kernel);
        ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), (nint)n * features);
        ref float y = ref Unsafe.Add(ref MemoryMarshal.GetReference(output), (nint)n * units);
        if (u1 - u0 < 8)
        {
            ScalarUnits(ref x, features, ref k0, kernelStride, ref b, hasBias, ref y, u0, u1, activation);
            return;
        }
        int u = u0;
        for (; u + 32 <= u1; u += 32)
        {
            Vector256<float> a0, a1, a2, a3;
            if (hasBias)
            {
                a0 = Vector256.LoadUnsafe(ref b, (nuint)u);
                a1 = Vector256.LoadUnsafe(ref b, (nuint)u + 8);
                a2 = Vector256.LoadUnsafe(ref b, (nuint)u + 16);
                a3 = Vector256.LoadUnsafe(ref b, (nuint)u + 24);
            }
            else a0 = a1 = a2 = a3 = Vector256<float>.Zero;
            ref float k = ref Unsafe.Add(ref k0, u);
            for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
            {
                var xi = Vector256.Create(Unsafe.Add(ref x, i));
                a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref k), xi, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref k, 8), xi, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref k, 16), xi, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref k, 24), xi, a3);
            }
            ref float o = ref Unsafe.Add(ref y, u);
            activation.Invoke(a0).StoreUnsafe(ref o);
            activation.Invoke(a1).StoreUnsafe(ref o, 8);
            activation.Invoke(a2).StoreUnsafe(ref o, 16);
            activation.Invoke(a3).StoreUnsafe(ref o, 24);
        }
        for (; u < u1; u += 8)
        {
            int at = Math.Min(u, u1 - 8);
            var acc = hasBias ? Vector256.LoadUnsafe(ref b, (nuint)at) : Vector256<float>.Zero;
            ref float k = ref Unsafe.Add(ref k0, at);
            for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref k), Vector256.Create(Unsafe.Add(ref x, i)), acc);
            activation.Invoke(acc).StoreUnsafe(ref y, (nuint)at);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarUnits<TActivation>(ref float x, int features, ref float kernel, nint kernelStride, ref float bias, bool hasBias,
                                                 ref float y, int u0, int u1, TActivation activation)
        where TActivation : struct, IActivation
    {
        for (int u = u0; u < u1; u++)
        {
            float acc = hasBias ? Unsafe.Add(ref bias, u) : 0f;
            ref float k = ref Unsafe.Add(ref kernel, u);
            for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
                acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref x, i), k, acc);
            Unsafe.Add(ref y, u) = activation.Invoke(acc);
        }
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
