namespace NativeCnn.Backends.Cpu.Simd;

/// <summary>
/// One SIMD width as a type: the operations the CPU kernels are written in, so that each kernel is written once and
/// runs on <see cref="Lanes512"/>, <see cref="Lanes256"/>, <see cref="Lanes128"/> or <see cref="LanesScalar"/> (the
/// pattern of TensorPrimitives' operator structs). A kernel is generic over <c>TLanes : ILanes&lt;TVector&gt;</c>; the
/// JIT specializes it per width and inlines every member, so the generic code compiles to the same instructions as
/// code written for one width.
/// </summary>
/// <remarks>
/// Masks are vectors whose lanes are all ones (true) or all zeros (false), as the comparisons return them. Every width
/// runs on every processor: a width the processor lacks runs in software (slowly, but with the same results), so tests
/// can force each width anywhere; <see cref="SimdDispatch.Best"/> is the one kernels use by default.
/// </remarks>
/// <typeparam name="TVector">The register type: <c>Vector512&lt;float&gt;</c>, …, or <see cref="float"/> for scalar code.</typeparam>
public interface ILanes<TVector> where TVector : unmanaged
{
    /// <summary>Floats per vector: 16, 8, 4 or 1.</summary>
    static abstract int Count { get; }

    /// <summary>Whether <see cref="LoadFirst"/> and <see cref="StoreFirst"/> are single fault-suppressing instructions here.</summary>
    static abstract bool CanMask { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TVector Zero { get; }

    /// <summary>All lanes one.</summary>
    static abstract TVector One { get; }

    /// <summary>All lanes <paramref name="value"/>.</summary>
    static abstract TVector Create(float value);

    /// <summary>Loads <see cref="Count"/> floats from <paramref name="source"/>.</summary>
    static abstract unsafe TVector Load(float* source);

    /// <summary>Loads <see cref="Count"/> floats starting at <paramref name="source"/>[<paramref name="index"/>].</summary>
    static abstract TVector Load(ref readonly float source, nuint index);

    /// <summary>Stores <see cref="Count"/> floats to <paramref name="destination"/>.</summary>
    static abstract unsafe void Store(float* destination, TVector value);

    /// <summary>Stores <see cref="Count"/> floats starting at <paramref name="destination"/>[<paramref name="index"/>].</summary>
    static abstract void Store(ref float destination, nuint index, TVector value);

    /// <summary>
    /// Loads the first <paramref name="count"/> floats (0 &lt; count &lt; <see cref="Count"/>), zeros in the other lanes,
    /// reading no memory past them.
    /// </summary>
    static abstract unsafe TVector LoadFirst(float* source, int count);

    /// <summary>Stores the first <paramref name="count"/> lanes (0 &lt; count &lt; <see cref="Count"/>), writing no memory past them.</summary>
    static abstract unsafe void StoreFirst(float* destination, TVector value, int count);

    /// <summary><c>x + y</c>.</summary>
    static abstract TVector Add(TVector x, TVector y);

    /// <summary><c>x − y</c>.</summary>
    static abstract TVector Subtract(TVector x, TVector y);

    /// <summary><c>x · y</c>.</summary>
    static abstract TVector Multiply(TVector x, TVector y);

    /// <summary><c>x / y</c>.</summary>
    static abstract TVector Divide(TVector x, TVector y);

    /// <summary><c>x · y + addend</c>, rounded once.</summary>
    static abstract TVector MultiplyAdd(TVector x, TVector y, TVector addend);

    /// <summary>Lane-wise maximum with <c>Vector128.Max</c>'s IEEE 754:2019 semantics (NaN propagates).</summary>
    static abstract TVector Max(TVector x, TVector y);

    /// <summary>Lane-wise minimum (NaN propagates).</summary>
    static abstract TVector Min(TVector x, TVector y);

    /// <summary>
    /// Lane-wise maximum in one instruction: a NaN in <paramref name="y"/> is returned, a NaN only in
    /// <paramref name="x"/> may not be, and ±0 compare equal (x86 <c>vmaxps</c>). <see cref="Max"/>'s IEEE semantics cost
    /// seven more instructions on x86, which inside exp and the sigmoid made swish 1.4x slower on AVX2.
    /// </summary>
    static abstract TVector MaxNative(TVector x, TVector y);

    /// <summary>Lane-wise minimum in one instruction, with <see cref="MaxNative"/>'s NaN rule (a NaN in <paramref name="y"/> is returned).</summary>
    static abstract TVector MinNative(TVector x, TVector y);

    /// <summary><c>|x|</c>.</summary>
    static abstract TVector Abs(TVector x);

    /// <summary><c>−x</c>.</summary>
    static abstract TVector Negate(TVector x);

    /// <summary>Rounds to the nearest integer, ties to even.</summary>
    static abstract TVector Round(TVector x);

    /// <summary><c>x · 2ⁿ</c> for integral <paramref name="n"/> in [−126, 127] (the exponent step of exp).</summary>
    static abstract TVector ScaleByPowerOfTwo(TVector x, TVector n);

    /// <summary>The magnitude of <paramref name="magnitude"/> with the sign of <paramref name="sign"/>.</summary>
    static abstract TVector CopySign(TVector magnitude, TVector sign);

    /// <summary>Mask of <c>x &lt; y</c>.</summary>
    static abstract TVector LessThan(TVector x, TVector y);

    /// <summary>Mask of <c>x &gt; y</c>.</summary>
    static abstract TVector GreaterThan(TVector x, TVector y);

    /// <summary>Mask of <c>x ≥ y</c>.</summary>
    static abstract TVector GreaterThanOrEqual(TVector x, TVector y);

    /// <summary>Mask of <c>x == y</c>.</summary>
    static abstract TVector Equal(TVector x, TVector y);

    /// <summary>Lanes of <paramref name="ifTrue"/> where <paramref name="mask"/> is set, else of <paramref name="ifFalse"/>.</summary>
    static abstract TVector Select(TVector mask, TVector ifTrue, TVector ifFalse);

    /// <summary>The sum of the lanes.</summary>
    static abstract float Sum(TVector x);

    /// <summary>The largest lane (NaN if any lane is NaN).</summary>
    static abstract float MaxAcross(TVector x);
}

/// <summary>
/// A kernel body to run at one SIMD width, for <see cref="SimdDispatch.Run{TKernel}"/>: a (ref) struct that carries the
/// kernel's arguments and calls the kernel's generic body with the width's types.
/// </summary>
public interface ISimdKernel
{
    /// <summary>Runs the kernel at the width of <typeparamref name="TLanes"/>.</summary>
    void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged;
}
