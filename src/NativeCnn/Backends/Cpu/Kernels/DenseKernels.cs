using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Shapes of one fully connected layer.</summary>
public readonly record struct DenseParams(int Batch, int InputFeatures, int Units);

/// <summary>Fully connected kernels.</summary>
public static class DenseKernels
{
    /// <summary>
    /// <c>output[n, u] = act(bias[u] + Σ_i input[n, i] · kernel[i, u])</c> for batch rows <paramref name="rows"/>.
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardVector512<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                       Span<float> output, in DenseParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
    {
        Check(input.Length, kernel.Length, bias.Length, output.Length, in p, rows);
        int features = p.InputFeatures, units = p.Units;
        nint kernelStride = units;
        bool hasBias = !bias.IsEmpty;
        ref float b = ref MemoryMarshal.GetReference(bias);
        ref float k0 = ref MemoryMarshal.GetReference(kernel);
        for (int n = rows.Start; n < rows.End; n++)
        {
            ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), (nint)n * features);
            ref float y = ref Unsafe.Add(ref MemoryMarshal.GetReference(output), (nint)n * units);
            if (units < 16)
            {
                ScalarUnits(ref x, features, ref k0, kernelStride, ref b, hasBias, ref y, units, activation);
                continue;
            }
            int u = 0;
            // 64 units per pass: four independent FMA chains over one broadcast input value.
            for (; u + 64 <= units; u += 64)
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
                ref float k = ref Unsafe.Add(ref k0, u);
                for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
                {
                    var xi = Vector512.Create(Unsafe.Add(ref x, i));
                    a0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k), xi, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k, 16), xi, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k, 32), xi, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k, 48), xi, a3);
                }
                ref float o = ref Unsafe.Add(ref y, u);
                activation.Invoke(a0).StoreUnsafe(ref o);
                activation.Invoke(a1).StoreUnsafe(ref o, 16);
                activation.Invoke(a2).StoreUnsafe(ref o, 32);
                activation.Invoke(a3).StoreUnsafe(ref o, 48);
            }
            // Output never aliases input, so the last block may overlap the previous one instead of a scalar tail.
            for (; u < units; u += 16)
            {
                int at = Math.Min(u, units - 16);
                var acc = hasBias ? Vector512.LoadUnsafe(ref b, (nuint)at) : Vector512<float>.Zero;
                ref float k = ref Unsafe.Add(ref k0, at);
                for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
                    acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref k), Vector512.Create(Unsafe.Add(ref x, i)), acc);
                activation.Invoke(acc).StoreUnsafe(ref y, (nuint)at);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardVector256<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias,
                                                       Span<float> output, in DenseParams p, TActivation activation, RowRange rows)
        where TActivation : struct, IActivation
    {
        Check(input.Length, kernel.Length, bias.Length, output.Length, in p, rows);
        int features = p.InputFeatures, units = p.Units;
        nint kernelStride = units;
        bool hasBias = !bias.IsEmpty;
        ref float b = ref MemoryMarshal.GetReference(bias);
        ref float k0 = ref MemoryMarshal.GetReference(kernel);
        for (int n = rows.Start; n < rows.End; n++)
        {
            ref float x = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), (nint)n * features);
            ref float y = ref Unsafe.Add(ref MemoryMarshal.GetReference(output), (nint)n * units);
            if (units < 8)
            {
                ScalarUnits(ref x, features, ref k0, kernelStride, ref b, hasBias, ref y, units, activation);
                continue;
            }
            int u = 0;
            for (; u + 32 <= units; u += 32)
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
            for (; u < units; u += 8)
            {
                int at = Math.Min(u, units - 8);
                var acc = hasBias ? Vector256.LoadUnsafe(ref b, (nuint)at) : Vector256<float>.Zero;
                ref float k = ref Unsafe.Add(ref k0, at);
                for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
                    acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref k), Vector256.Create(Unsafe.Add(ref x, i)), acc);
                activation.Invoke(acc).StoreUnsafe(ref y, (nuint)at);
            }
        }
    }

    private static void ScalarUnits<TActivation>(ref float x, int features, ref float kernel, nint kernelStride, ref float bias, bool hasBias,
                                                 ref float y, int units, TActivation activation)
        where TActivation : struct, IActivation
    {
        for (int u = 0; u < units; u++)
        {
            float acc = hasBias ? Unsafe.Add(ref bias, u) : 0f;
            ref float k = ref Unsafe.Add(ref kernel, u);
            for (int i = 0; i < features; i++, k = ref Unsafe.Add(ref k, kernelStride))
                acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref x, i), k, acc);
            Unsafe.Add(ref y, u) = activation.Invoke(acc);
        }
    }

    private static void Check(int inputLength, int kernelLength, int biasLength, int outputLength, in DenseParams p, RowRange rows)
    {
        if (inputLength < (long)p.Batch * p.InputFeatures)
            throw new ArgumentException($"input has {inputLength} elements, the shapes need {(long)p.Batch * p.InputFeatures}");
        if (kernelLength != (long)p.InputFeatures * p.Units)
            throw new ArgumentException($"kernel has {kernelLength} elements, expected {(long)p.InputFeatures * p.Units}");
        if (biasLength != 0 && biasLength != p.Units)
            throw new ArgumentException($"bias has {biasLength} elements, expected {p.Units} or none");
        if (outputLength < (long)p.Batch * p.Units)
            throw new ArgumentException($"output has {outputLength} elements, the shapes need {(long)p.Batch * p.Units}");
        if (rows.Start < 0 || rows.End > p.Batch || rows.Start > rows.End)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must lie in [0, {p.Batch})");
    }
}
