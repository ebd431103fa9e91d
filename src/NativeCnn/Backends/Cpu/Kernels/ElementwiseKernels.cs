using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Element-wise kernels over whole spans; a caller that threads them passes disjoint slices
/// (for per-channel kernels, slices that start on a pixel boundary). Each is written once over
/// <see cref="ILanes{TVector}"/> and runs at <see cref="SimdDispatch.Best"/> unless a width is forced.
/// </summary>
/// <remarks>
/// Every kernel here may run in place, so a plain overlapping last vector would apply the operation twice to the
/// overlapped elements: whole-span tails are one masked vector where the width masks, else the scalar lane over the
/// same body, and per-channel kernels compute their overlapping vector before anything of that pixel is stored.
/// </remarks>
public static class ElementwiseKernels
{
    /// <summary><c>output[i] = act(input[i])</c>. <paramref name="output"/> may be <paramref name="input"/>.</summary>
    public static void Apply<TActivation>(ReadOnlySpan<float> input, Span<float> output, TActivation activation,
                                          SimdWidth width = SimdWidth.Auto)
        where TActivation : struct, IActivation
    {
        CheckDestination(input.Length, output.Length);
        var kernel = new ApplyKernel<TActivation> { Input = input, Output = output, Activation = activation };
        SimdDispatch.Run(width, ref kernel);
    }

    /// <summary><c>output[i] = left[i] + right[i]</c>. <paramref name="output"/> may alias either input.</summary>
    public static void Add(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output, SimdWidth width = SimdWidth.Auto)
        => Binary<AddOp>(left, right, output, width);

    /// <summary><c>output[i] = left[i] · right[i]</c>. <paramref name="output"/> may alias either input.</summary>
    public static void Multiply(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output, SimdWidth width = SimdWidth.Auto)
        => Binary<MultiplyOp>(left, right, output, width);

    /// <summary><c>output[i] = left[i] − right[i]</c>. <paramref name="output"/> may alias either input.</summary>
    public static void Subtract(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output, SimdWidth width = SimdWidth.Auto)
        => Binary<SubtractOp>(left, right, output, width);

    /// <summary><c>output[i] = max(left[i], right[i])</c>; a NaN in either gives NaN. <paramref name="output"/> may alias either input.</summary>
    public static void Maximum(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output, SimdWidth width = SimdWidth.Auto)
        => Binary<MaximumOp>(left, right, output, width);

    /// <summary><c>output[i] = min(left[i], right[i])</c>; a NaN in either gives NaN. <paramref name="output"/> may alias either input.</summary>
    public static void Minimum(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output, SimdWidth width = SimdWidth.Auto)
        => Binary<MinimumOp>(left, right, output, width);

    /// <summary><c>output[i] = input[i] &lt; 0 ? input[i] · alpha[i] : input[i]</c> (PReLU with its slopes laid out like the
    /// input). <paramref name="output"/> may alias either input.</summary>
    public static void PRelu(ReadOnlySpan<float> input, ReadOnlySpan<float> alpha, Span<float> output, SimdWidth width = SimdWidth.Auto)
        => Binary<PReluOp>(input, alpha, output, width);

    /// <summary><c>output[i] = input[i] / divisor</c>, a true division (Keras's Average divides its sum).
    /// <paramref name="output"/> may be <paramref name="input"/>.</summary>
    public static void Divide(ReadOnlySpan<float> input, float divisor, Span<float> output, SimdWidth width = SimdWidth.Auto)
        => Apply(input, output, new DivideByConstant(divisor), width);

    private static void Binary<TOp>(ReadOnlySpan<float> left, ReadOnlySpan<float> right, Span<float> output, SimdWidth width)
        where TOp : struct, IBinaryOp
    {
        CheckBinary(left.Length, right.Length, output.Length);
        var kernel = new BinaryKernel<TOp> { Left = left, Right = right, Output = output };
        SimdDispatch.Run(width, ref kernel);
    }

    /// <summary>
    /// <c>output[p, c] = input[p, c] · channelScale[c]</c> for pixels-major data with <c>channelScale.Length</c> channels
    /// (the excite step of squeeze-and-excitation).
    /// </summary>
    public static void MultiplyByChannel(ReadOnlySpan<float> input, ReadOnlySpan<float> channelScale, Span<float> output,
                                         SimdWidth width = SimdWidth.Auto)
    {
        CheckChannels(input.Length, channelScale.Length, output.Length);
        // ScaleOp ignores the shift operand; passing the scale again keeps every load in bounds.
        var kernel = new PerChannelKernel<ScaleOp> { Input = input, Scale = channelScale, Shift = channelScale, Output = output };
        SimdDispatch.Run(width, ref kernel);
    }

    /// <summary>
    /// <c>output[p, c] = act(input[p, c] · scale[c] + shift[c])</c>: inference BatchNormalization, Rescaling and
    /// Normalization. <c>scale.Length</c> is the channel count.
    /// </summary>
    public static void ChannelAffine<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
                                                  Span<float> output, TActivation activation, SimdWidth width = SimdWidth.Auto)
        where TActivation : struct, IActivation
    {
        CheckChannels(input.Length, scale.Length, output.Length);
        CheckShift(scale.Length, shift.Length);
        var kernel = new PerChannelKernel<AffineOp<TActivation>>
        {
            Input = input, Scale = scale, Shift = shift, Output = output, Op = new AffineOp<TActivation>(activation),
        };
        SimdDispatch.Run(width, ref kernel);
    }

    /// <summary>
    /// Softmax over one row: <c>output[i] = exp(input[i] − max) / Σ exp(input[j] − max)</c>. The max is subtracted for
    /// stability, as Keras does. <paramref name="output"/> may be <paramref name="input"/>.
    /// </summary>
    public static void Softmax(ReadOnlySpan<float> input, Span<float> output, SimdWidth width = SimdWidth.Auto)
    {
        CheckDestination(input.Length, output.Length);
        if (input.IsEmpty) return;
        var kernel = new SoftmaxKernel { Input = input, Output = output };
        SimdDispatch.Run(width, ref kernel);
    }

    private ref struct ApplyKernel<TActivation> : ISimdKernel where TActivation : struct, IActivation
    {
        public ReadOnlySpan<float> Input;
        public Span<float> Output;
        public TActivation Activation;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => ApplyBody<TLanes, TVector, TActivation>(ref MemoryMarshal.GetReference(Input), ref MemoryMarshal.GetReference(Output),
                                                       (nuint)Input.Length, Activation);
    }

    private ref struct BinaryKernel<TOp> : ISimdKernel where TOp : struct, IBinaryOp
    {
        public ReadOnlySpan<float> Left, Right;
        public Span<float> Output;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => BinaryBody<TLanes, TVector, TOp>(ref MemoryMarshal.GetReference(Left), ref MemoryMarshal.GetReference(Right),
                                                ref MemoryMarshal.GetReference(Output), (nuint)Left.Length);
    }

    private ref struct PerChannelKernel<TOp> : ISimdKernel where TOp : struct, IChannelOp
    {
        public ReadOnlySpan<float> Input, Scale, Shift;
        public Span<float> Output;
        public TOp Op;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => PerChannel<TLanes, TVector, TOp>(Input, Scale, Shift, Output, Op);
    }

    private ref struct SoftmaxKernel : ISimdKernel
    {
        public ReadOnlySpan<float> Input;
        public Span<float> Output;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => SoftmaxBody<TLanes, TVector>(ref MemoryMarshal.GetReference(Input), ref MemoryMarshal.GetReference(Output), (nuint)Input.Length);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ApplyBody<TLanes, TVector, TActivation>(ref float x, ref float y, nuint n, TActivation activation)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TActivation : struct, IActivation
    {
        nuint lanes = (nuint)TLanes.Count, i = 0;
        // Four independent vectors per iteration keep the exp/divide latency of sigmoid-like activations overlapped.
        for (; i + 4 * lanes <= n; i += 4 * lanes)
        {
            var a = activation.Invoke<TLanes, TVector>(TLanes.Load(ref x, i));
            var b = activation.Invoke<TLanes, TVector>(TLanes.Load(ref x, i + lanes));
            var c = activation.Invoke<TLanes, TVector>(TLanes.Load(ref x, i + 2 * lanes));
            var d = activation.Invoke<TLanes, TVector>(TLanes.Load(ref x, i + 3 * lanes));
            TLanes.Store(ref y, i, a);
            TLanes.Store(ref y, i + lanes, b);
            TLanes.Store(ref y, i + 2 * lanes, c);
            TLanes.Store(ref y, i + 3 * lanes, d);
        }
        for (; i + lanes <= n; i += lanes) TLanes.Store(ref y, i, activation.Invoke<TLanes, TVector>(TLanes.Load(ref x, i)));
        if (i == n) return;
        if (TLanes.CanMask)
        {
            // The tail as one masked vector: per-pixel spans of 40 or 24 channels would otherwise spend most of their
            // time in scalar exp.
            int count = (int)(n - i);
            fixed (float* source = &Unsafe.Add(ref x, i), target = &Unsafe.Add(ref y, i))
                TLanes.StoreFirst(target, activation.Invoke<TLanes, TVector>(TLanes.LoadFirst(source, count)), count);
        }
        else ApplyBody<LanesScalar, float, TActivation>(ref Unsafe.Add(ref x, i), ref Unsafe.Add(ref y, i), n - i, activation);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BinaryBody<TLanes, TVector, TOp>(ref float a, ref float b, ref float y, nuint n)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TOp : struct, IBinaryOp
    {
        nuint lanes = (nuint)TLanes.Count, i = 0;
        for (; i + lanes <= n; i += lanes) TLanes.Store(ref y, i, TOp.Invoke<TLanes, TVector>(TLanes.Load(ref a, i), TLanes.Load(ref b, i)));
        if (i < n) BinaryBody<LanesScalar, float, TOp>(ref Unsafe.Add(ref a, i), ref Unsafe.Add(ref b, i), ref Unsafe.Add(ref y, i), n - i);
    }

    /// <summary>
    /// <c>output[p, c] = op(input[p, c], scale[c], shift[c])</c>. Fewer channels than lanes: the per-channel operands
    /// are tiled over <c>lanes</c> pixels (exactly <c>channels</c> vectors), so whole vectors run with no per-pixel tail.
    /// Otherwise a channel count that is not a multiple of the lanes ends each pixel with an overlapping vector; it is
    /// computed before the pixel's other stores, from unmodified input, so running in place stays exact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PerChannel<TLanes, TVector, TOp>(ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
                                                         Span<float> output, TOp op)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged where TOp : struct, IChannelOp
    {
        int lanes = TLanes.Count, channels = scale.Length;
        ref float x = ref MemoryMarshal.GetReference(input);
        ref float a = ref MemoryMarshal.GetReference(scale);
        ref float b = ref MemoryMarshal.GetReference(shift);
        ref float y = ref MemoryMarshal.GetReference(output);
        nuint n = (nuint)input.Length, c = (nuint)channels, l = (nuint)lanes;
        if (n == 0) return;
        if (channels < lanes)
        {
            // Sized for the widest lanes (16 · 15 floats per operand), so the size is a constant.
            Span<float> tiles = stackalloc float[2 * 16 * 15];
            int tileLength = lanes * channels;
            for (int j = 0; j < tileLength; j++)
            {
                tiles[j] = scale[j % channels];
                tiles[tileLength + j] = shift[j % channels];
            }
            ref float ta = ref MemoryMarshal.GetReference(tiles);
            ref float tb = ref Unsafe.Add(ref ta, tileLength);
            nuint i = 0;
            for (; i + (nuint)tileLength <= n; i += (nuint)tileLength)
                for (nuint j = 0; j < (nuint)tileLength; j += l)
                    TLanes.Store(ref y, i + j, op.Invoke<TLanes, TVector>(TLanes.Load(ref x, i + j), TLanes.Load(ref ta, j), TLanes.Load(ref tb, j)));
            // Fewer than `lanes` pixels left: whole vectors still line up with the tiles, then a scalar remainder.
            for (nuint j = 0; i + j + l <= n; j += l)
                TLanes.Store(ref y, i + j, op.Invoke<TLanes, TVector>(TLanes.Load(ref x, i + j), TLanes.Load(ref ta, j), TLanes.Load(ref tb, j)));
            for (nuint k = i + (n - i) / l * l; k < n; k++)
            {
                nuint channel = (k - i) % c;
                Unsafe.Add(ref y, k) = op.Invoke<LanesScalar, float>(Unsafe.Add(ref x, k), Unsafe.Add(ref a, channel), Unsafe.Add(ref b, channel));
            }
            return;
        }
        nuint last = c - l;
        var lastA = TLanes.Load(ref a, last);
        var lastB = TLanes.Load(ref b, last);
        for (nuint pixel = 0; pixel < n; pixel += c)
        {
            ref float xp = ref Unsafe.Add(ref x, pixel);
            ref float yp = ref Unsafe.Add(ref y, pixel);
            var tail = op.Invoke<TLanes, TVector>(TLanes.Load(ref xp, last), lastA, lastB);
            for (nuint j = 0; j < last; j += l)
                TLanes.Store(ref yp, j, op.Invoke<TLanes, TVector>(TLanes.Load(ref xp, j), TLanes.Load(ref a, j), TLanes.Load(ref b, j)));
            TLanes.Store(ref yp, last, tail);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SoftmaxBody<TLanes, TVector>(ref float x, ref float y, nuint n)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        nuint lanes = (nuint)TLanes.Count, i = 0;
        float max = float.NegativeInfinity;
        if (n >= lanes)
        {
            var m = TLanes.Load(ref x, 0);
            for (i = lanes; i + lanes <= n; i += lanes) m = TLanes.Max(m, TLanes.Load(ref x, i));
            max = TLanes.MaxAcross(m);
        }
        for (; i < n; i++) max = MathF.Max(max, Unsafe.Add(ref x, i));

        // Reading x[i] before writing y[i] at the same index keeps the in-place case correct.
        var maxV = TLanes.Create(max);
        var sumV = TLanes.Zero;
        for (i = 0; i + lanes <= n; i += lanes)
        {
            var e = VectorMath.Exp<TLanes, TVector>(TLanes.Subtract(TLanes.Load(ref x, i), maxV));
            sumV = TLanes.Add(sumV, e);
            TLanes.Store(ref y, i, e);
        }
        float sum = TLanes.Sum(sumV);
        for (; i < n; i++)
        {
            float e = VectorMath.Exp<LanesScalar, float>(Unsafe.Add(ref x, i) - max);
            sum += e;
            Unsafe.Add(ref y, i) = e;
        }

        var sumAll = TLanes.Create(sum);
        for (i = 0; i + lanes <= n; i += lanes) TLanes.Store(ref y, i, TLanes.Divide(TLanes.Load(ref y, i), sumAll));
        for (; i < n; i++) Unsafe.Add(ref y, i) /= sum;
    }

    /// <summary>A lane-wise binary operation at every width.</summary>
    private interface IBinaryOp
    {
        static abstract TVector Invoke<TLanes, TVector>(TVector x, TVector y) where TLanes : struct, ILanes<TVector> where TVector : unmanaged;
    }

    private readonly struct AddOp : IBinaryOp
    {
        public static TVector Invoke<TLanes, TVector>(TVector x, TVector y) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.Add(x, y);
    }

    private readonly struct PReluOp : IBinaryOp
    {
        public static TVector Invoke<TLanes, TVector>(TVector x, TVector y) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.Select(TLanes.LessThan(x, TLanes.Zero), TLanes.Multiply(x, y), x);
    }

    private readonly struct MultiplyOp : IBinaryOp
    {
        public static TVector Invoke<TLanes, TVector>(TVector x, TVector y) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.Multiply(x, y);
    }

    private readonly struct SubtractOp : IBinaryOp
    {
        public static TVector Invoke<TLanes, TVector>(TVector x, TVector y) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.Subtract(x, y);
    }

    private readonly struct MaximumOp : IBinaryOp
    {
        public static TVector Invoke<TLanes, TVector>(TVector x, TVector y) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.Max(x, y);
    }

    private readonly struct MinimumOp : IBinaryOp
    {
        public static TVector Invoke<TLanes, TVector>(TVector x, TVector y) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.Min(x, y);
    }

    /// <summary><c>x / divisor</c>, as an element-wise "activation" so that <see cref="Apply{TActivation}"/> runs it.</summary>
    private readonly struct DivideByConstant(float divisor) : IActivation
    {
        private readonly float _divisor = divisor;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVector Invoke<TLanes, TVector>(TVector x) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.Divide(x, TLanes.Create(_divisor));
    }

    /// <summary>A per-channel operation <c>f(x, scale, shift)</c> at every width.</summary>
    private interface IChannelOp
    {
        TVector Invoke<TLanes, TVector>(TVector x, TVector scale, TVector shift) where TLanes : struct, ILanes<TVector> where TVector : unmanaged;
    }

    /// <summary><c>x · scale</c>; the shift operand is ignored.</summary>
    private readonly struct ScaleOp : IChannelOp
    {
        public TVector Invoke<TLanes, TVector>(TVector x, TVector scale, TVector shift) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => TLanes.Multiply(x, scale);
    }

    /// <summary><c>act(x · scale + shift)</c> with one rounding for the multiply-add.</summary>
    private readonly struct AffineOp<TActivation>(TActivation activation) : IChannelOp
        where TActivation : struct, IActivation
    {
        private readonly TActivation _activation = activation;

        public TVector Invoke<TLanes, TVector>(TVector x, TVector scale, TVector shift) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => _activation.Invoke<TLanes, TVector>(TLanes.MultiplyAdd(x, scale, shift));
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
