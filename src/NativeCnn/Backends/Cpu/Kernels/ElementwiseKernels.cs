using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Element-wise kernels over whole spans; a caller that threads them passes disjoint slices
/// (for per-channel kernels, slices that start on a pixel boundary).
/// </summary>
/// <remarks>
/// Every kernel here may run in place, so a plain overlapping last vector would apply the operation twice to the
/// overlapped elements: whole-span tails are finished with scalar code, and per-channel kernels compute their
/// overlapping vector before anything of that pixel is stored.
/// </remarks>
public static class ElementwiseKernels
{
    /// <summary><c>output[i] = act(input[i])</c>. <paramref name="output"/> may be <paramref name="input"/>.</summary>
    public static void Apply<TActivation>(ReadOnlySpan<float> input, Span<float> output, TActivation activation)
        where TActivation : struct, IActivation
    {
        if (Vector512.IsHardwareAccelerated) ApplyVector512(input, output, activation);
        else ApplyVector256(input, output, activation);
    }

    /// <summary><c>output[i] = left[i] + right[i]</c>. <paramref name="output"/> may alias either input.</summary>
    public static void Add(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output)
    {
        if (Vector512.IsHardwareAccelerated) AddVector512(left, right, output);
        else AddVector256(left, right, output);
    }

    /// <summary><c>output[i] = left[i] · right[i]</c>. <paramref name="output"/> may alias either input.</summary>
    public static void Multiply(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output)
    {
        if (Vector512.IsHardwareAccelerated) MultiplyVector512(left, right, output);
        else MultiplyVector256(left, right, output);
    }

    /// <summary>
    /// <c>output[p, c] = input[p, c] · channelScale[c]</c> for pixels-major data with <c>channelScale.Length</c> channels
    /// (the excite step of squeeze-and-excitation).
    /// </summary>
    public static void MultiplyByChannel(ReadOnlySpan<float> input, ReadOnlySpan<float> channelScale, Span<float> output)
    {
        if (Vector512.IsHardwareAccelerated) MultiplyByChannelVector512(input, channelScale, output);
        else MultiplyByChannelVector256(input, channelScale, output);
    }

    /// <summary>
    /// <c>output[p, c] = act(input[p, c] · scale[c] + shift[c])</c>: inference BatchNormalization, Rescaling and
    /// Normalization. <c>scale.Length</c> is the channel count.
    /// </summary>
    public static void ChannelAffine<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
                                                  Span<float> output, TActivation activation)
        where TActivation : struct, IActivation
    {
        if (Vector512.IsHardwareAccelerated) ChannelAffineVector512(input, scale, shift, output, activation);
        else ChannelAffineVector256(input, scale, shift, output, activation);
    }

    /// <summary>
    /// Softmax over one row: <c>output[i] = exp(input[i] − max) / Σ exp(input[j] − max)</c>. The max is subtracted for
    /// stability, as Keras does. <paramref name="output"/> may be <paramref name="input"/>.
    /// </summary>
    public static void Softmax(ReadOnlySpan<float> input, Span<float> output)
    {
        if (Vector512.IsHardwareAccelerated) SoftmaxVector512(input, output);
        else SoftmaxVector256(input, output);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ApplyVector512<TActivation>(ReadOnlySpan<float> input, Span<float> output, TActivation activation)
        where TActivation : struct, IActivation
    {
        CheckDestination(input.Length, output.Length);
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)input.Length, i = 0;
        // Four independent vectors per iteration keep the exp/divide latency of sigmoid-like activations overlapped.
        for (; i + 64 <= n; i += 64)
        {
            var a = activation.Invoke(Vector512.LoadUnsafe(ref x, i));
            var b = activation.Invoke(Vector512.LoadUnsafe(ref x, i + 16));
            var c = activation.Invoke(Vector512.LoadUnsafe(ref x, i + 32));
            var d = activation.Invoke(Vector512.LoadUnsafe(ref x, i + 48));
            a.StoreUnsafe(ref y, i);
            b.StoreUnsafe(ref y, i + 16);
            c.StoreUnsafe(ref y, i + 32);
            d.StoreUnsafe(ref y, i + 48);
        }
        for (; i + 16 <= n; i += 16) activation.Invoke(Vector512.LoadUnsafe(ref x, i)).StoreUnsafe(ref y, i);
        if (i == n) return;
        // The tail as one masked vector: per-pixel spans of 40 or 24 channels would otherwise spend most of their time
        // in scalar exp.
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create((int)(n - i))).AsSingle();
        unsafe
        {
            fixed (float* source = &Unsafe.Add(ref x, i), target = &Unsafe.Add(ref y, i))
                Avx512F.MaskStore(target, mask, activation.Invoke(Avx512F.MaskLoad(source, mask, Vector512<float>.Zero)));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ApplyVector256<TActivation>(ReadOnlySpan<float> input, Span<float> output, TActivation activation)
        where TActivation : struct, IActivation
    {
        CheckDestination(input.Length, output.Length);
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)input.Length, i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var a = activation.Invoke(Vector256.LoadUnsafe(ref x, i));
            var b = activation.Invoke(Vector256.LoadUnsafe(ref x, i + 8));
            var c = activation.Invoke(Vector256.LoadUnsafe(ref x, i + 16));
            var d = activation.Invoke(Vector256.LoadUnsafe(ref x, i + 24));
            a.StoreUnsafe(ref y, i);
            b.StoreUnsafe(ref y, i + 8);
            c.StoreUnsafe(ref y, i + 16);
            d.StoreUnsafe(ref y, i + 24);
        }
        for (; i + 8 <= n; i += 8) activation.Invoke(Vector256.LoadUnsafe(ref x, i)).StoreUnsafe(ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = activation.Invoke(Unsafe.Add(ref x, i));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AddVector512(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output)
    {
        CheckBinary(left.Length, right.Length, output.Length);
        ref float a = ref MemoryMarshal.GetReference(left);
        ref float b = ref MemoryMarshal.GetReference(right);
        ref float y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)left.Length, i = 0;
        for (; i + 16 <= n; i += 16) (Vector512.LoadUnsafe(ref a, i) + Vector512.LoadUnsafe(ref b, i)).StoreUnsafe(ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref a, i) + Unsafe.Add(ref b, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AddVector256(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output)
    {
        CheckBinary(left.Length, right.Length, output.Length);
        ref float a = ref MemoryMarshal.GetReference(left);
        ref float b = ref MemoryMarshal.GetReference(right);
        ref float y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)left.Length, i = 0;
        for (; i + 8 <= n; i += 8) (Vector256.LoadUnsafe(ref a, i) + Vector256.LoadUnsafe(ref b, i)).StoreUnsafe(ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref a, i) + Unsafe.Add(ref b, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyVector512(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output)
    {
        CheckBinary(left.Length, right.Length, output.Length);
        ref float a = ref MemoryMarshal.GetReference(left);
        ref float b = ref MemoryMarshal.GetReference(right);
        ref float y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)left.Length, i = 0;
        for (; i + 16 <= n; i += 16) (Vector512.LoadUnsafe(ref a, i) * Vector512.LoadUnsafe(ref b, i)).StoreUnsafe(ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyVector256(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output)
    {
        CheckBinary(left.Length, right.Length, output.Length);
        ref float a = ref MemoryMarshal.GetReference(left);
        ref float b = ref MemoryMarshal.GetReference(right);
        ref float y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)left.Length, i = 0;
        for (; i + 8 <= n; i += 8) (Vector256.LoadUnsafe(ref a, i) * Vector256.LoadUnsafe(ref b, i)).StoreUnsafe(ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref a, i) * Unsafe.Add(ref b, i);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyByChannelVector512(ReadOnlySpan<float> input, ReadOnlySpan<float> channelScale, Span<float> output)
    {
        CheckChannels(input.Length, channelScale.Length, output.Length);
        // ScaleOp ignores the shift operand; passing the scale again keeps every load in bounds.
        PerChannelVector512(input, channelScale, channelScale, output, default(ScaleOp));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MultiplyByChannelVector256(ReadOnlySpan<float> input, ReadOnlySpan<float> channelScale, Span<float> output)
    {
        CheckChannels(input.Length, channelScale.Length, output.Length);
        PerChannelVector256(input, channelScale, channelScale, output, default(ScaleOp));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ChannelAffineVector512<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
                                                             Span<float> output, TActivation activation)
        where TActivation : struct, IActivation
    {
        CheckChannels(input.Length, scale.Length, output.Length);
        CheckShift(scale.Length, shift.Length);
        PerChannelVector512(input, scale, shift, output, new AffineOp<TActivation>(activation));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ChannelAffineVector256<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
                                                             Span<float> output, TActivation activation)
        where TActivation : struct, IActivation
    {
        CheckChannels(input.Length, scale.Length, output.Length);
        CheckShift(scale.Length, shift.Length);
        PerChannelVector256(input, scale, shift, output, new AffineOp<TActivation>(activation));
    }

    /// <summary>
    /// <c>output[p, c] = op(input[p, c], scale[c], shift[c])</c>. Fewer channels than lanes: the per-channel operands
    /// are tiled over 16 pixels (exactly <c>channels</c> vectors), so whole vectors run with no per-pixel tail. Otherwise
    /// a channel count that is not a multiple of 16 ends each pixel with an overlapping vector; it is computed before
    /// the pixel's other stores, from unmodified input, so running in place stays exact.
    /// </summary>
    private static void PerChannelVector512<TOp>(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
                                                 Span<float> output, TOp op)
        where TOp : struct, IChannelOp
    {
        const int Lanes = 16;
        int channels = scale.Length;
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float a = ref MemoryMarshal.GetReference(scale);
        ref float b = ref MemoryMarshal.GetReference(shift);
        ref float y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)input.Length, c = (nuint)channels;
        if (n == 0) return;
        if (channels < Lanes)
        {
            Span<float> tiles = stackalloc float[2 * Lanes * (Lanes - 1)];
            int tileLength = Lanes * channels;
            for (int j = 0; j < tileLength; j++)
            {
                tiles[j] = scale[j % channels];
                tiles[tileLength + j] = shift[j % channels];
            }
            ref float ta = ref MemoryMarshal.GetReference(tiles);
            ref float tb = ref Unsafe.Add(ref ta, tileLength);
            nuint i = 0;
            for (; i + (nuint)tileLength <= n; i += (nuint)tileLength)
                for (nuint j = 0; j < (nuint)tileLength; j += Lanes)
                    op.Invoke(Vector512.LoadUnsafe(ref x, i + j), Vector512.LoadUnsafe(ref ta, j), Vector512.LoadUnsafe(ref tb, j)).StoreUnsafe(ref y, i + j);
            // Fewer than 16 pixels left: whole vectors still line up with the tiles, then a scalar remainder.
            for (nuint j = 0; i + j + Lanes <= n; j += Lanes)
                op.Invoke(Vector512.LoadUnsafe(ref x, i + j), Vector512.LoadUnsafe(ref ta, j), Vector512.LoadUnsafe(ref tb, j)).StoreUnsafe(ref y, i + j);
            for (nuint k = i + (n - i) / Lanes * Lanes; k < n; k++)
            {
                nuint channel = (k - i) % c;
                Unsafe.Add(ref y, k) = op.Invoke(Unsafe.Add(ref x, k), Unsafe.Add(ref a, channel), Unsafe.Add(ref b, channel));
            }
            return;
        }
        nuint last = c - Lanes;
        var lastA = Vector512.LoadUnsafe(ref a, last);
        var lastB = Vector512.LoadUnsafe(ref b, last);
        for (nuint pixel = 0; pixel < n; pixel += c)
        {
            ref float xp = ref Unsafe.Add(ref x, pixel);
            ref float yp = ref Unsafe.Add(ref y, pixel);
            var tail = op.Invoke(Vector512.LoadUnsafe(ref xp, last), lastA, lastB);
            for (nuint j = 0; j < last; j += Lanes)
                op.Invoke(Vector512.LoadUnsafe(ref xp, j), Vector512.LoadUnsafe(ref a, j), Vector512.LoadUnsafe(ref b, j)).StoreUnsafe(ref yp, j);
            tail.StoreUnsafe(ref yp, last);
        }
    }

    /// <summary>The 8-lane twin of <see cref="PerChannelVector512"/>.</summary>
    private static void PerChannelVector256<TOp>(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
                                                 Span<float> output, TOp op)
        where TOp : struct, IChannelOp
    {
        const int Lanes = 8;
        int channels = scale.Length;
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float a = ref MemoryMarshal.GetReference(scale);
        ref float b = ref MemoryMarshal.GetReference(shift);
        ref float y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)input.Length, c = (nuint)channels;
        if (n == 0) return;
        if (channels < Lanes)
        {
            Span<float> tiles = stackalloc float[2 * Lanes * (Lanes - 1)];
            int tileLength = Lanes * channels;
            for (int j = 0; j < tileLength; j++)
            {
                tiles[j] = scale[j % channels];
                tiles[tileLength + j] = shift[j % channels];
            }
            ref float ta = ref MemoryMarshal.GetReference(tiles);
            ref float tb = ref Unsafe.Add(ref ta, tileLength);
            nuint i = 0;
            for (; i + (nuint)tileLength <= n; i += (nuint)tileLength)
                for (nuint j = 0; j < (nuint)tileLength; j += Lanes)
                    op.Invoke(Vector256.LoadUnsafe(ref x, i + j), Vector256.LoadUnsafe(ref ta, j), Vector256.LoadUnsafe(ref tb, j)).StoreUnsafe(ref y, i + j);
            for (nuint j = 0; i + j + Lanes <= n; j += Lanes)
                op.Invoke(Vector256.LoadUnsafe(ref x, i + j), Vector256.LoadUnsafe(ref ta, j), Vector256.LoadUnsafe(ref tb, j)).StoreUnsafe(ref y, i + j);
            for (nuint k = i + (n - i) / Lanes * Lanes; k < n; k++)
            {
                nuint channel = (k - i) % c;
                Unsafe.Add(ref y, k) = op.Invoke(Unsafe.Add(ref x, k), Unsafe.Add(ref a, channel), Unsafe.Add(ref b, channel));
            }
            return;
        }
        nuint last = c - Lanes;
        var lastA = Vector256.LoadUnsafe(ref a, last);
        var lastB = Vector256.LoadUnsafe(ref b, last);
        for (nuint pixel = 0; pixel < n; pixel += c)
        {
            ref float xp = ref Unsafe.Add(ref x, pixel);
            ref float yp = ref Unsafe.Add(ref y, pixel);
            var tail = op.Invoke(Vector256.LoadUnsafe(ref xp, last), lastA, lastB);
            for (nuint j = 0; j < last; j += Lanes)
                op.Invoke(Vector256.LoadUnsafe(ref xp, j), Vector256.LoadUnsafe(ref a, j), Vector256.LoadUnsafe(ref b, j)).StoreUnsafe(ref yp, j);
            tail.StoreUnsafe(ref yp, last);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SoftmaxVector512(ReadOnlySpan<float> input, Span<float> output)
    {
        CheckDestination(input.Length, output.Length);
        if (input.IsEmpty) return;
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)input.Length, i = 0;

        float max = float.NegativeInfinity;
        if (n >= 16)
        {
            var m = Vector512.LoadUnsafe(ref x);
            for (i = 16; i + 16 <= n; i += 16) m = Vector512.Max(m, Vector512.LoadUnsafe(ref x, i));
            max = HorizontalMax(Vector256.Max(m.GetLower(), m.GetUpper()));
        }
        for (; i < n; i++) max = MathF.Max(max, Unsafe.Add(ref x, i));

        // Reading x[i] before writing y[i] at the same index keeps the in-place case correct.
        var maxV = Vector512.Create(max);
        var sumV = Vector512<float>.Zero;
        for (i = 0; i + 16 <= n; i += 16)
        {
            var e = Vector512.Exp(Vector512.LoadUnsafe(ref x, i) - maxV);
            sumV += e;
            e.StoreUnsafe(ref y, i);
        }
        float sum = Vector512.Sum(sumV);
        for (; i < n; i++)
        {
            float e = MathF.Exp(Unsafe.Add(ref x, i) - max);
            sum += e;
            Unsafe.Add(ref y, i) = e;
        }

        var sumAll = Vector512.Create(sum);
        for (i = 0; i + 16 <= n; i += 16) (Vector512.LoadUnsafe(ref y, i) / sumAll).StoreUnsafe(ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) /= sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SoftmaxVector256(ReadOnlySpan<float> input, Span<float> output)
    {
        CheckDestination(input.Length, output.Length);
        if (input.IsEmpty) return;
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)input.Length, i = 0;

        float max = float.NegativeInfinity;
        if (n >= 8)
        {
            var m = Vector256.LoadUnsafe(ref x);
            for (i = 8; i + 8 <= n; i += 8) m = Vector256.Max(m, Vector256.LoadUnsafe(ref x, i));
            max = HorizontalMax(m);
        }
        for (; i < n; i++) max = MathF.Max(max, Unsafe.Add(ref x, i));

        var maxV = Vector256.Create(max);
        var sumV = Vector256<float>.Zero;
        for (i = 0; i + 8 <= n; i += 8)
        {
            var e = Vector256.Exp(Vector256.LoadUnsafe(ref x, i) - maxV);
            sumV += e;
            e.StoreUnsafe(ref y, i);
        }
        float sum = Vector256.Sum(sumV);
        for (; i < n; i++)
        {
            float e = MathF.Exp(Unsafe.Add(ref x, i) - max);
            sum += e;
            Unsafe.Add(ref y, i) = e;
        }

        var sumAll = Vector256.Create(sum);
        for (i = 0; i + 8 <= n; i += 8) (Vector256.LoadUnsafe(ref y, i) / sumAll).StoreUnsafe(ref y, i);
        for (; i < n; i++) Unsafe.Add(ref y, i) /= sum;
    }

    private static float HorizontalMax(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        return MathF.Max(MathF.Max(m[0], m[1]), MathF.Max(m[2], m[3]));
    }

    /// <summary>A per-channel operation <c>f(x, scale, shift)</c> at every width.</summary>
    private interface IChannelOp
    {
        float Invoke(float x, float scale, float shift);
        Vector256<float> Invoke(Vector256<float> x, Vector256<float> scale, Vector256<float> shift);
        Vector512<float> Invoke(Vector512<float> x, Vector512<float> scale, Vector512<float> shift);
    }

    /// <summary><c>x · scale</c>; the shift operand is ignored.</summary>
    private readonly struct ScaleOp : IChannelOp
    {
        public float Invoke(float x, float scale, float shift) => x * scale;
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> scale, Vector256<float> shift) => x * scale;
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> scale, Vector512<float> shift) => x * scale;
    }

    /// <summary><c>act(x · scale + shift)</c> with one rounding for the multiply-add.</summary>
    private readonly struct AffineOp<TActivation>(TActivation activation) : IChannelOp
        where TActivation : struct, IActivation
    {
        private readonly TActivation _activation = activation;

        public float Invoke(float x, float scale, float shift) => _activation.Invoke(MathF.FusedMultiplyAdd(x, scale, shift));
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> scale, Vector256<float> shift)
            => _activation.Invoke(Vector256.FusedMultiplyAdd(x, scale, shift));
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> scale, Vector512<float> shift)
            => _activation.Invoke(Vector512.FusedMultiplyAdd(x, scale, shift));
    }

    private static void CheckDestination(int inputLength, int outputLength)
    {
        if (outputLength < inputLength)
            throw new ArgumentException($"output has {outputLength} elements, input {inputLength}", "output");
    }

    private static void CheckBinary(int leftLength, int rightLength, int outputLength)
    {
        if (leftLength != rightLength)
            throw new ArgumentException($"left has {leftLength} elements, right {rightLength}", "right");
        CheckDestination(leftLength, outputLength);
    }

    private static void CheckChannels(int inputLength, int channels, int outputLength)
    {
        if (channels == 0 ? inputLength != 0 : inputLength % channels != 0)
            throw new ArgumentException($"input length {inputLength} is not a whole number of {channels}-channel pixels", "input");
        CheckDestination(inputLength, outputLength);
    }

    private static void CheckShift(int channels, int shiftLength)
    {
        if (shiftLength != channels)
            throw new ArgumentException($"shift has {shiftLength} elements, scale {channels}", "shift");
    }
}
