using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Element-wise kernels over whole spans; a caller that threads them passes disjoint slices
/// (for per-channel kernels, slices that start on a pixel boundary).
/// </summary>
/// <remarks>
/// Every kernel here may run in place, so tails are finished with scalar code rather than an overlapping last vector,
/// which would apply the operation twice to the overlapped elements.
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
        for (; i < n; i++) Unsafe.Add(ref y, i) = activation.Invoke(Unsafe.Add(ref x, i));
    }

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

    internal static void MultiplyByChannelVector512(ReadOnlySpan<float> input, ReadOnlySpan<float> channelScale, Span<float> output)
    {
        int channels = channelScale.Length;
        CheckChannels(input.Length, channels, output.Length);
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float s = ref MemoryMarshal.GetReference(channelScale);
        ref float y = ref MemoryMarshal.GetReference(output);
        if (channels == 1)
        {
            // One channel is a plain broadcast; per-pixel loops would never reach a vector.
            var s0 = Vector512.Create(s);
            nuint n = (nuint)input.Length, i = 0;
            for (; i + 16 <= n; i += 16) (Vector512.LoadUnsafe(ref x, i) * s0).StoreUnsafe(ref y, i);
            for (; i < n; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref x, i) * s;
            return;
        }
        for (nuint pixel = 0, end = (nuint)input.Length; pixel < end; pixel += (nuint)channels)
        {
            ref float xp = ref Unsafe.Add(ref x, pixel);
            ref float yp = ref Unsafe.Add(ref y, pixel);
            nuint c = 0;
            for (; c + 16 <= (nuint)channels; c += 16)
                (Vector512.LoadUnsafe(ref xp, c) * Vector512.LoadUnsafe(ref s, c)).StoreUnsafe(ref yp, c);
            for (; c < (nuint)channels; c++) Unsafe.Add(ref yp, c) = Unsafe.Add(ref xp, c) * Unsafe.Add(ref s, c);
        }
    }

    internal static void MultiplyByChannelVector256(ReadOnlySpan<float> input, ReadOnlySpan<float> channelScale, Span<float> output)
    {
        int channels = channelScale.Length;
        CheckChannels(input.Length, channels, output.Length);
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float s = ref MemoryMarshal.GetReference(channelScale);
        ref float y = ref MemoryMarshal.GetReference(output);
        if (channels == 1)
        {
            var s0 = Vector256.Create(s);
            nuint n = (nuint)input.Length, i = 0;
            for (; i + 8 <= n; i += 8) (Vector256.LoadUnsafe(ref x, i) * s0).StoreUnsafe(ref y, i);
            for (; i < n; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref x, i) * s;
            return;
        }
        for (nuint pixel = 0, end = (nuint)input.Length; pixel < end; pixel += (nuint)channels)
        {
            ref float xp = ref Unsafe.Add(ref x, pixel);
            ref float yp = ref Unsafe.Add(ref y, pixel);
            nuint c = 0;
            for (; c + 8 <= (nuint)channels; c += 8)
                (Vector256.LoadUnsafe(ref xp, c) * Vector256.LoadUnsafe(ref s, c)).StoreUnsafe(ref yp, c);
            for (; c < (nuint)channels; c++) Unsafe.Add(ref yp, c) = Unsafe.Add(ref xp, c) * Unsafe.Add(ref s, c);
        }
    }

    internal static void ChannelAffineVector512<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
                                                             Span<float> output, TActivation activation)
        where TActivation : struct, IActivation
    {
        int channels = scale.Length;
        CheckChannels(input.Length, channels, output.Length);
        CheckShift(channels, shift.Length);
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float a = ref MemoryMarshal.GetReference(scale);
        ref float b = ref MemoryMarshal.GetReference(shift);
        ref float y = ref MemoryMarshal.GetReference(output);
        if (channels == 1)
        {
            var a0 = Vector512.Create(a);
            var b0 = Vector512.Create(b);
            nuint n = (nuint)input.Length, i = 0;
            for (; i + 16 <= n; i += 16)
                activation.Invoke(Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, i), a0, b0)).StoreUnsafe(ref y, i);
            for (; i < n; i++) Unsafe.Add(ref y, i) = activation.Invoke(MathF.FusedMultiplyAdd(Unsafe.Add(ref x, i), a, b));
            return;
        }
        for (nuint pixel = 0, end = (nuint)input.Length; pixel < end; pixel += (nuint)channels)
        {
            ref float xp = ref Unsafe.Add(ref x, pixel);
            ref float yp = ref Unsafe.Add(ref y, pixel);
            nuint c = 0;
            for (; c + 16 <= (nuint)channels; c += 16)
            {
                var v = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xp, c), Vector512.LoadUnsafe(ref a, c), Vector512.LoadUnsafe(ref b, c));
                activation.Invoke(v).StoreUnsafe(ref yp, c);
            }
            for (; c < (nuint)channels; c++)
                Unsafe.Add(ref yp, c) = activation.Invoke(MathF.FusedMultiplyAdd(Unsafe.Add(ref xp, c), Unsafe.Add(ref a, c), Unsafe.Add(ref b, c)));
        }
    }

    internal static void ChannelAffineVector256<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
                                                             Span<float> output, TActivation activation)
        where TActivation : struct, IActivation
    {
        int channels = scale.Length;
        CheckChannels(input.Length, channels, output.Length);
        CheckShift(channels, shift.Length);
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float a = ref MemoryMarshal.GetReference(scale);
        ref float b = ref MemoryMarshal.GetReference(shift);
        ref float y = ref MemoryMarshal.GetReference(output);
        if (channels == 1)
        {
            var a0 = Vector256.Create(a);
            var b0 = Vector256.Create(b);
            nuint n = (nuint)input.Length, i = 0;
            for (; i + 8 <= n; i += 8)
                activation.Invoke(Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x, i), a0, b0)).StoreUnsafe(ref y, i);
            for (; i < n; i++) Unsafe.Add(ref y, i) = activation.Invoke(MathF.FusedMultiplyAdd(Unsafe.Add(ref x, i), a, b));
            return;
        }
        for (nuint pixel = 0, end = (nuint)input.Length; pixel < end; pixel += (nuint)channels)
        {
            ref float xp = ref Unsafe.Add(ref x, pixel);
            ref float yp = ref Unsafe.Add(ref y, pixel);
            nuint c = 0;
            for (; c + 8 <= (nuint)channels; c += 8)
            {
                var v = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref xp, c), Vector256.LoadUnsafe(ref a, c), Vector256.LoadUnsafe(ref b, c));
                activation.Invoke(v).StoreUnsafe(ref yp, c);
            }
            for (; c < (nuint)channels; c++)
                Unsafe.Add(ref yp, c) = activation.Invoke(MathF.FusedMultiplyAdd(Unsafe.Add(ref xp, c), Unsafe.Add(ref a, c), Unsafe.Add(ref b, c)));
        }
    }

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
