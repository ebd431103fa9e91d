using System.Runtime.CompilerServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// The inner loops the backward kernels share, written once over <see cref="ILanes{TVector}"/>. Tails run on the scalar
/// lane, never as an overlapping vector: these loops accumulate into their destination, and an overlapped lane would
/// be added twice.
/// </summary>
internal static class BackwardLoops
{
    /// <summary>
    /// <c>dst[u] = (accumulate ? dst[u] : 0) + Σ_r coef[r·coefStride] · rows[r·rowStride + u]</c> for <c>u &lt; length</c>:
    /// a weighted sum of <paramref name="count"/> rows, four vectors of <c>u</c> held in registers over all rows, so
    /// <paramref name="dst"/> is read and written once. A <paramref name="coefStride"/> of 0 repeats one weight (column sums).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightedRowSum<TLanes, TVector>(ref float coef, nint coefStride, ref float rows, nint rowStride, int count,
                                                       ref float dst, int length, bool accumulate)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        int lanes = TLanes.Count, u = 0;
        nuint l = (nuint)lanes;
        for (; u + 4 * lanes <= length; u += 4 * lanes)
        {
            ref float d = ref Unsafe.Add(ref dst, u);
            TVector a0, a1, a2, a3;
            if (accumulate)
            {
                a0 = TLanes.Load(ref d, 0);
                a1 = TLanes.Load(ref d, l);
                a2 = TLanes.Load(ref d, 2 * l);
                a3 = TLanes.Load(ref d, 3 * l);
            }
            else
            {
                a0 = a1 = a2 = a3 = TLanes.Zero;
            }
            // A second set of accumulators for odd rows: four chains of dependent FMAs would bound the loop by latency.
            TVector b0 = TLanes.Zero, b1 = b0, b2 = b0, b3 = b0;
            ref float row = ref Unsafe.Add(ref rows, u);
            ref float c = ref coef;
            int r = 0;
            for (; r + 2 <= count; r += 2, row = ref Unsafe.Add(ref row, 2 * rowStride), c = ref Unsafe.Add(ref c, 2 * coefStride))
            {
                var w = TLanes.Create(c);
                var v = TLanes.Create(Unsafe.Add(ref c, coefStride));
                ref float next = ref Unsafe.Add(ref row, rowStride);
                a0 = TLanes.MultiplyAdd(TLanes.Load(ref row, 0), w, a0);
                a1 = TLanes.MultiplyAdd(TLanes.Load(ref row, l), w, a1);
                a2 = TLanes.MultiplyAdd(TLanes.Load(ref row, 2 * l), w, a2);
                a3 = TLanes.MultiplyAdd(TLanes.Load(ref row, 3 * l), w, a3);
                b0 = TLanes.MultiplyAdd(TLanes.Load(ref next, 0), v, b0);
                b1 = TLanes.MultiplyAdd(TLanes.Load(ref next, l), v, b1);
                b2 = TLanes.MultiplyAdd(TLanes.Load(ref next, 2 * l), v, b2);
                b3 = TLanes.MultiplyAdd(TLanes.Load(ref next, 3 * l), v, b3);
            }
            if (r < count)
            {
                var w = TLanes.Create(c);
                a0 = TLanes.MultiplyAdd(TLanes.Load(ref row, 0), w, a0);
                a1 = TLanes.MultiplyAdd(TLanes.Load(ref row, l), w, a1);
                a2 = TLanes.MultiplyAdd(TLanes.Load(ref row, 2 * l), w, a2);
                a3 = TLanes.MultiplyAdd(TLanes.Load(ref row, 3 * l), w, a3);
            }
            a0 = TLanes.Add(a0, b0);
            a1 = TLanes.Add(a1, b1);
            a2 = TLanes.Add(a2, b2);
            a3 = TLanes.Add(a3, b3);
            TLanes.Store(ref d, 0, a0);
            TLanes.Store(ref d, l, a1);
            TLanes.Store(ref d, 2 * l, a2);
            TLanes.Store(ref d, 3 * l, a3);
        }
        for (; u + lanes <= length; u += lanes)
        {
            ref float d = ref Unsafe.Add(ref dst, u);
            var a = accumulate ? TLanes.Load(ref d, 0) : TLanes.Zero;
            ref float row = ref Unsafe.Add(ref rows, u);
            ref float c = ref coef;
            for (int r = 0; r < count; r++, row = ref Unsafe.Add(ref row, rowStride), c = ref Unsafe.Add(ref c, coefStride))
                a = TLanes.MultiplyAdd(TLanes.Load(ref row, 0), TLanes.Create(c), a);
            TLanes.Store(ref d, 0, a);
        }
        for (; u < length; u++)
        {
            float a = accumulate ? Unsafe.Add(ref dst, u) : 0f;
            ref float row = ref Unsafe.Add(ref rows, u);
            ref float c = ref coef;
            for (int r = 0; r < count; r++, row = ref Unsafe.Add(ref row, rowStride), c = ref Unsafe.Add(ref c, coefStride))
                a = MathF.FusedMultiplyAdd(row, c, a);
            Unsafe.Add(ref dst, u) = a;
        }
    }

    /// <summary><c>Σ_i a[i] · b[i]</c> over <paramref name="length"/> values, in two vector accumulators then the scalar lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot<TLanes, TVector>(ref float a, ref float b, int length)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        int lanes = TLanes.Count, i = 0;
        nuint l = (nuint)lanes;
        TVector s0 = TLanes.Zero, s1 = TLanes.Zero;
        for (; i + 2 * lanes <= length; i += 2 * lanes)
        {
            s0 = TLanes.MultiplyAdd(TLanes.Load(ref a, (nuint)i), TLanes.Load(ref b, (nuint)i), s0);
            s1 = TLanes.MultiplyAdd(TLanes.Load(ref a, (nuint)i + l), TLanes.Load(ref b, (nuint)i + l), s1);
        }
        for (; i + lanes <= length; i += lanes)
            s0 = TLanes.MultiplyAdd(TLanes.Load(ref a, (nuint)i), TLanes.Load(ref b, (nuint)i), s0);
        float sum = TLanes.Sum(TLanes.Add(s0, s1));
        for (; i < length; i++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, i), Unsafe.Add(ref b, i), sum);
        return sum;
    }

    /// <summary><c>dst[i] += a[i] · b[i]</c> over <paramref name="length"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd<TLanes, TVector>(ref float a, ref float b, ref float dst, int length)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        int lanes = TLanes.Count, i = 0;
        for (; i + lanes <= length; i += lanes)
            TLanes.Store(ref dst, (nuint)i, TLanes.MultiplyAdd(TLanes.Load(ref a, (nuint)i), TLanes.Load(ref b, (nuint)i), TLanes.Load(ref dst, (nuint)i)));
        for (; i < length; i++) Unsafe.Add(ref dst, i) = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, i), Unsafe.Add(ref b, i), Unsafe.Add(ref dst, i));
    }

    /// <summary>
    /// Along one axis of a window op, the output position <paramref name="output"/> whose window puts tap
    /// <paramref name="tap"/> on input position <paramref name="input"/>; false when none does (before the first
    /// window, between strides or past the last output).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool OutputForTap(int input, int tap, int padBefore, int dilation, int stride, int outputSize, out int output)
    {
        int t = input + padBefore - tap * dilation;
        output = t / stride;
        return t >= 0 && t % stride == 0 && output < outputSize;
    }

    /// <summary>A kernel's loop over the channels <c>[c0, c1)</c> in steps of the lanes' width.</summary>
    public interface IChannelBody
    {
        void Body<TLanes, TVector>(int c0, int c1) where TLanes : struct, ILanes<TVector> where TVector : unmanaged;
    }

    /// <summary>
    /// Runs <paramref name="body"/> over whole vectors of the <paramref name="channels"/>, then over the remaining
    /// channels on the scalar lane (no overlapping vector: the bodies store sums and routed gradients).
    /// </summary>
    public static void VectorsThenScalars<TBody, TLanes, TVector>(TBody body, int channels)
        where TBody : IChannelBody, allows ref struct where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        int vectorEnd = channels - channels % TLanes.Count;
        body.Body<TLanes, TVector>(0, vectorEnd);
        body.Body<LanesScalar, float>(vectorEnd, channels);
    }

    /// <summary>Throws unless <paramref name="length"/> is at least <paramref name="required"/>, naming both.</summary>
    public static void CheckLength(int length, long required, string what)
    {
        if (length < required) throw new ArgumentException($"{what} has {length} elements, the shapes need {required}", what);
    }

    /// <summary>Throws unless <paramref name="rows"/> lies in <c>[0, rowCount]</c>.</summary>
    public static void CheckRows(RowRange rows, long rowCount, string name = "rows")
    {
        if (rows.Start < 0 || rows.End > rowCount || rows.Start > rows.End)
            throw new ArgumentOutOfRangeException(name, rows, $"{name} must lie in [0, {rowCount}]");
    }
}
