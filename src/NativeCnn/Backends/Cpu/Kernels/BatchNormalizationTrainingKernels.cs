using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Keras <c>BatchNormalization</c> in training mode over NHWC data seen as <c>(pixels, channels)</c> with
/// <c>pixels = batch · height · width</c>: the batch statistics, the moving-average update and the gradients.
/// </summary>
/// <remarks>
/// <para>
/// Keras 3 (<c>keras/src/layers/normalization/batch_normalization.py</c> @3422977a) takes <c>ops.moments</c>, which on
/// TensorFlow is <c>tf.nn.moments</c>: the mean and the <em>biased</em> variance <c>Σ(x − μ)² / pixels</c>. The same biased
/// variance normalizes the batch and enters the moving average <c>moving = moving · momentum + batch · (1 − momentum)</c>
/// (PyTorch's running variance is unbiased instead). The output is TensorFlow's <c>batch_normalization</c>:
/// <c>y = x · s + (β − μ · s)</c> with <c>s = γ / √(σ² + ε)</c>.
/// </para>
/// <para>
/// The per-channel sums are taken in float64 (the statistics of 400k pixels in float32 would lose four digits), in
/// blocks of <see cref="ChannelBlock"/> channels on the stack; the element-wise passes run over vectors of channels.
/// <c>scale=False</c> and <c>center=False</c> pass empty <c>gamma</c>/<c>beta</c> (and their gradients).
/// </para>
/// </remarks>
public static class BatchNormalizationTrainingKernels
{
    /// <summary>Channels whose float64 sums are held on the stack at once.</summary>
    private const int ChannelBlock = 256;

    /// <summary>Pixels whose rows one channel vector's float64 accumulators sum before they go back to memory.</summary>
    private const int PixelTile = 64;

    /// <summary>
    /// Computes the batch statistics and the normalized output: <c>mean[c] = Σ_p x[p, c] / P</c>,
    /// <c>variance[c] = Σ_p (x[p, c] − mean[c])² / P</c>, <c>inverseStd[c] = 1 / √(variance[c] + ε)</c> and
    /// <c>output[p, c] = x · s + (β − mean · s)</c> with <c>s = γ · inverseStd</c>.
    /// </summary>
    /// <param name="input"><c>(pixels, channels)</c>.</param>
    /// <param name="gamma"><c>(channels)</c>, or empty for <c>scale=False</c> (γ = 1).</param>
    /// <param name="beta"><c>(channels)</c>, or empty for <c>center=False</c> (β = 0).</param>
    /// <param name="output"><c>(pixels, channels)</c>; may be <paramref name="input"/>, though the backward pass needs the input.</param>
    /// <param name="mean">Writes the batch mean, <c>(channels)</c>: the channel count.</param>
    /// <param name="variance">Writes the biased batch variance (for <see cref="UpdateMovingStatistics"/>).</param>
    /// <param name="inverseStd">Writes <c>1 / √(variance + ε)</c>, which <see cref="Backward"/> reads.</param>
    /// <param name="pixels">Rows <c>batch · height · width</c>, at least 1.</param>
    /// <param name="epsilon">Keras <c>epsilon</c> (1e-3 by default).</param>
    /// <param name="width">The SIMD width (<see cref="SimdWidth.Auto"/>: <see cref="SimdDispatch.Best"/>).</param>
    /// <exception cref="ArgumentException">A span's length does not match <c>pixels</c> and the channel count.</exception>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> output,
                               Span<float> mean, Span<float> variance, Span<float> inverseStd, int pixels, float epsilon,
                               SimdWidth width = SimdWidth.Auto)
    {
        int channels = mean.Length;
        CheckCommon(input.Length, pixels, channels, gamma.Length, nameof(gamma));
        CheckOptional(beta.Length, channels, nameof(beta));
        CheckExact(output.Length, (long)pixels * channels, nameof(output));
        CheckExact(variance.Length, channels, nameof(variance));
        CheckExact(inverseStd.Length, channels, nameof(inverseStd));
        Span<double> sums = stackalloc double[ChannelBlock];
        for (int c0 = 0; c0 < channels; c0 += ChannelBlock)
        {
            int count = Math.Min(ChannelBlock, channels - c0);
            Statistics(input, mean, variance, inverseStd, pixels, epsilon, new RowRange(c0, c0 + count), sums[..count]);
        }
        Normalize(input, gamma, beta, mean, inverseStd, output, RowRange.All(pixels), width);
    }

    /// <summary>
    /// The batch statistics of channels <paramref name="channelRange"/> only (<see cref="Forward"/>'s first part), so that
    /// threads can take disjoint channel ranges: every channel's sums run over the pixels in order, in float64, whatever
    /// the range, so the result does not depend on how the channels are split.
    /// </summary>
    /// <param name="input"><c>(pixels, channels)</c>, <c>channels = mean.Length</c>.</param>
    /// <param name="mean">Writes the range's batch means.</param>
    /// <param name="variance">Writes the range's biased batch variances.</param>
    /// <param name="inverseStd">Writes the range's <c>1 / √(variance + ε)</c>.</param>
    /// <param name="pixels">Rows <c>batch · height · width</c>, at least 1.</param>
    /// <param name="epsilon">Keras <c>epsilon</c>.</param>
    /// <param name="channelRange">The channels to compute.</param>
    /// <param name="sums">Scratch of at least the range's channel count.</param>
    /// <exception cref="ArgumentException">A span's length does not match, or the range is outside the channels.</exception>
    public static void Statistics(ReadOnlySpan<float> input, Span<float> mean, Span<float> variance, Span<float> inverseStd, int pixels,
                                  float epsilon, RowRange channelRange, Span<double> sums)
    {
        int channels = mean.Length, first = channelRange.Start, count = channelRange.Count;
        CheckCommon(input.Length, pixels, channels, 0, "gamma");
        CheckRange(channelRange, channels, sums.Length);
        var s = sums[..count];
        SumPerChannel(input, channels, pixels, first, s);
        for (int c = 0; c < count; c++) mean[first + c] = (float)(s[c] / pixels);
        // Two passes: the squares of deviations from the rounded mean, as tf.nn.moments subtracts it.
        SumSquaredDeviations(input, mean, pixels, first, s);
        for (int c = 0; c < count; c++)
        {
            double v = s[c] / pixels;
            variance[first + c] = (float)v;
            inverseStd[first + c] = (float)(1 / Math.Sqrt((double)(float)v + epsilon));
        }
    }

    /// <summary>
    /// <see cref="Forward"/>'s output for pixels <paramref name="pixelRange"/> only: <c>output = x · s + (β − mean · s)</c>
    /// with <c>s = γ · inverseStd</c>, from the statistics <see cref="Statistics"/> wrote.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match, or the range is outside the pixels.</exception>
    public static void Normalize(ReadOnlySpan<float> input, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean,
                                 ReadOnlySpan<float> inverseStd, Span<float> output, RowRange pixelRange, SimdWidth width = SimdWidth.Auto)
    {
        int channels = mean.Length;
        CheckOptional(gamma.Length, channels, nameof(gamma));
        CheckOptional(beta.Length, channels, nameof(beta));
        CheckExact(inverseStd.Length, channels, nameof(inverseStd));
        if (input.Length != output.Length || input.Length % channels != 0 || pixelRange.Start < 0 || pixelRange.End > input.Length / channels)
            throw new ArgumentException($"pixels {pixelRange.Start}..{pixelRange.End} are outside the input of {input.Length / channels} pixels (output {output.Length} values)", nameof(pixelRange));
        var body = new NormalizeKernel
        {
            Input = input, Gamma = gamma, Beta = beta, Mean = mean, InverseStd = inverseStd, Output = output, First = pixelRange.Start, End = pixelRange.End,
        };
        SimdDispatch.Run(width, ref body);
    }

    // sums[c] = Σ_p x[p, first + c], in float64 and pixel order per channel: lanes of channels widened to double, a tile of
    // pixels at a time so that the accumulators stay in registers while the rows stream.
    private static void SumPerChannel(ReadOnlySpan<float> input, int channels, int pixels, int first, Span<double> sums)
    {
        sums.Clear();
        ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), first);
        ref double s0 = ref MemoryMarshal.GetReference(sums);
        int count = sums.Length, floats = Vector<float>.Count, doubles = Vector<double>.Count;
        for (int p0 = 0; p0 < pixels; p0 += PixelTile)
        {
            int p1 = Math.Min(pixels, p0 + PixelTile), c = 0;
            for (; c + floats <= count; c += floats)
            {
                var low = Vector.LoadUnsafe(ref s0, (nuint)c);
                var high = Vector.LoadUnsafe(ref s0, (nuint)(c + doubles));
                for (int p = p0; p < p1; p++)
                {
                    Vector.Widen(Vector.LoadUnsafe(ref x0, (nuint)((long)p * channels + c)), out var l, out var h);
                    low += l;
                    high += h;
                }
                low.StoreUnsafe(ref s0, (nuint)c);
                high.StoreUnsafe(ref s0, (nuint)(c + doubles));
            }
            for (; c < count; c++)
            {
                double sum = Unsafe.Add(ref s0, c);
                for (int p = p0; p < p1; p++) sum += Unsafe.Add(ref x0, (nint)((long)p * channels + c));
                Unsafe.Add(ref s0, c) = sum;
            }
        }
    }

    // sums[c] = Σ_p (x[p, first + c] − mean[first + c])², in float64 as SumPerChannel.
    private static void SumSquaredDeviations(ReadOnlySpan<float> input, ReadOnlySpan<float> mean, int pixels, int first, Span<double> sums)
    {
        sums.Clear();
        int channels = mean.Length, count = sums.Length, floats = Vector<float>.Count, doubles = Vector<double>.Count;
        ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), first);
        ref float m0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(mean), first);
        ref double s0 = ref MemoryMarshal.GetReference(sums);
        for (int p0 = 0; p0 < pixels; p0 += PixelTile)
        {
            int p1 = Math.Min(pixels, p0 + PixelTile), c = 0;
            for (; c + floats <= count; c += floats)
            {
                Vector.Widen(Vector.LoadUnsafe(ref m0, (nuint)c), out var meanLow, out var meanHigh);
                var low = Vector.LoadUnsafe(ref s0, (nuint)c);
                var high = Vector.LoadUnsafe(ref s0, (nuint)(c + doubles));
                for (int p = p0; p < p1; p++)
                {
                    Vector.Widen(Vector.LoadUnsafe(ref x0, (nuint)((long)p * channels + c)), out var l, out var h);
                    var dl = l - meanLow;
                    var dh = h - meanHigh;
                    low += dl * dl;
                    high += dh * dh;
                }
                low.StoreUnsafe(ref s0, (nuint)c);
                high.StoreUnsafe(ref s0, (nuint)(c + doubles));
            }
            for (; c < count; c++)
            {
                double sum = Unsafe.Add(ref s0, c), m = Unsafe.Add(ref m0, c);
                for (int p = p0; p < p1; p++)
                {
                    double d = Unsafe.Add(ref x0, (nint)((long)p * channels + c)) - m;
                    sum += d * d;
                }
                Unsafe.Add(ref s0, c) = sum;
            }
        }
    }

    /// <summary>
    /// <see cref="Backward"/>'s per-channel sums for channels <paramref name="channelRange"/>, in float64 and pixel order:
    /// <c>sumDy[c] = Σ_p dy</c> and <c>sumDyXhat[c] = Σ_p dy · x̂</c> with <c>x̂ = (x − mean) · inverseStd</c>, indexed from
    /// the range's first channel.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match, or the range is outside the channels.</exception>
    public static void GradientSums(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> mean, ReadOnlySpan<float> inverseStd,
                                    Span<double> sumDy, Span<double> sumDyXhat, int pixels, RowRange channelRange)
    {
        int channels = mean.Length, first = channelRange.Start, count = channelRange.Count;
        CheckCommon(input.Length, pixels, channels, 0, "gamma");
        CheckExact(outputGradient.Length, (long)pixels * channels, nameof(outputGradient));
        CheckExact(inverseStd.Length, channels, nameof(inverseStd));
        CheckRange(channelRange, channels, Math.Min(sumDy.Length, sumDyXhat.Length));
        int floats = Vector<float>.Count, doubles = Vector<double>.Count;
        ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(input), first);
        ref float dy0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(outputGradient), first);
        ref float m0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(mean), first);
        ref float i0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(inverseStd), first);
        ref double a0 = ref MemoryMarshal.GetReference(sumDy);
        ref double b0 = ref MemoryMarshal.GetReference(sumDyXhat);
        sumDy[..count].Clear();
        sumDyXhat[..count].Clear();
        for (int p0 = 0; p0 < pixels; p0 += PixelTile)
        {
            int p1 = Math.Min(pixels, p0 + PixelTile), c = 0;
            for (; c + floats <= count; c += floats)
            {
                Vector.Widen(Vector.LoadUnsafe(ref m0, (nuint)c), out var meanLow, out var meanHigh);
                Vector.Widen(Vector.LoadUnsafe(ref i0, (nuint)c), out var invLow, out var invHigh);
                var dyLowSum = Vector.LoadUnsafe(ref a0, (nuint)c);
                var dyHighSum = Vector.LoadUnsafe(ref a0, (nuint)(c + doubles));
                var productLowSum = Vector.LoadUnsafe(ref b0, (nuint)c);
                var productHighSum = Vector.LoadUnsafe(ref b0, (nuint)(c + doubles));
                for (int p = p0; p < p1; p++)
                {
                    nuint row = (nuint)((long)p * channels + c);
                    Vector.Widen(Vector.LoadUnsafe(ref x0, row), out var xl, out var xh);
                    Vector.Widen(Vector.LoadUnsafe(ref dy0, row), out var dl, out var dh);
                    dyLowSum += dl;
                    dyHighSum += dh;
                    productLowSum += dl * ((xl - meanLow) * invLow);
                    productHighSum += dh * ((xh - meanHigh) * invHigh);
                }
                dyLowSum.StoreUnsafe(ref a0, (nuint)c);
                dyHighSum.StoreUnsafe(ref a0, (nuint)(c + doubles));
                productLowSum.StoreUnsafe(ref b0, (nuint)c);
                productHighSum.StoreUnsafe(ref b0, (nuint)(c + doubles));
            }
            for (; c < count; c++)
            {
                double dySum = Unsafe.Add(ref a0, c), productSum = Unsafe.Add(ref b0, c), m = Unsafe.Add(ref m0, c), inv = Unsafe.Add(ref i0, c);
                for (int p = p0; p < p1; p++)
                {
                    nint row = (nint)((long)p * channels + c);
                    double dy = Unsafe.Add(ref dy0, row);
                    dySum += dy;
                    productSum += dy * ((Unsafe.Add(ref x0, row) - m) * inv);
                }
                Unsafe.Add(ref a0, c) = dySum;
                Unsafe.Add(ref b0, c) = productSum;
            }
        }
    }

    /// <summary>
    /// Keras's moving-average update, in float32 as Keras computes it:
    /// <c>movingMean = movingMean · m + mean · (1 − m)</c> and the same for the variance (the biased batch variance).
    /// </summary>
    /// <param name="movingMean">Updated in place.</param>
    /// <param name="movingVariance">Updated in place.</param>
    /// <param name="mean">The batch mean from <see cref="Forward"/>.</param>
    /// <param name="variance">The batch variance from <see cref="Forward"/>.</param>
    /// <param name="momentum">Keras <c>momentum</c> (0.99 by default), a Python float: <c>1 − m</c> is taken in float64 before rounding, as Keras does.</param>
    /// <exception cref="ArgumentException">The four spans' lengths differ.</exception>
    public static void UpdateMovingStatistics(Span<float> movingMean, Span<float> movingVariance, ReadOnlySpan<float> mean,
                                              ReadOnlySpan<float> variance, double momentum)
    {
        int channels = mean.Length;
        CheckExact(movingMean.Length, channels, nameof(movingMean));
        CheckExact(movingVariance.Length, channels, nameof(movingVariance));
        CheckExact(variance.Length, channels, nameof(variance));
        float keep = (float)momentum, take = (float)(1.0 - momentum);
        for (int c = 0; c < channels; c++)
        {
            movingMean[c] = movingMean[c] * keep + mean[c] * take;
            movingVariance[c] = movingVariance[c] * keep + variance[c] * take;
        }
    }

    /// <summary>
    /// The gradients of <see cref="Forward"/> through the batch statistics, with <c>x̂ = (x − mean) · inverseStd</c>:
    /// <c>betaGradient[c] (+)= Σ_p dy</c>, <c>gammaGradient[c] (+)= Σ_p dy · x̂</c> and
    /// <c>inputGradient = γ · inverseStd · (dy − Σ_p dy / P − x̂ · Σ_p dy · x̂ / P)</c>.
    /// </summary>
    /// <param name="input">The forward input, <c>(pixels, channels)</c>.</param>
    /// <param name="outputGradient"><c>dy</c>, <c>(pixels, channels)</c>.</param>
    /// <param name="gamma"><c>(channels)</c>, or empty for <c>scale=False</c>.</param>
    /// <param name="mean">The batch mean <see cref="Forward"/> wrote: its length is the channel count.</param>
    /// <param name="inverseStd">The <c>inverseStd</c> <see cref="Forward"/> wrote.</param>
    /// <param name="inputGradient">Overwritten (added to with <paramref name="accumulateInputGradient"/>), <c>(pixels, channels)</c>;
    /// may be <paramref name="outputGradient"/> when overwritten; empty to compute only the weight gradients.</param>
    /// <param name="gammaGradient"><c>(channels)</c>, or empty for <c>scale=False</c>.</param>
    /// <param name="betaGradient"><c>(channels)</c>, or empty for <c>center=False</c>.</param>
    /// <param name="pixels">Rows <c>batch · height · width</c>.</param>
    /// <param name="accumulate">Add to <paramref name="gammaGradient"/> and <paramref name="betaGradient"/> instead of overwriting them.</param>
    /// <param name="width">The SIMD width.</param>
    /// <param name="accumulateInputGradient">Add to <paramref name="inputGradient"/> (a tensor read by several layers sums
    /// their gradients) instead of overwriting it; then it must not be <paramref name="outputGradient"/>.</param>
    /// <exception cref="ArgumentException">A span's length does not match <c>pixels</c> and the channel count.</exception>
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> gamma,
                                ReadOnlySpan<float> mean, ReadOnlySpan<float> inverseStd, Span<float> inputGradient,
                                Span<float> gammaGradient, Span<float> betaGradient, int pixels, bool accumulate,
                                SimdWidth width = SimdWidth.Auto, bool accumulateInputGradient = false)
    {
        int channels = mean.Length;
        CheckCommon(input.Length, pixels, channels, gamma.Length, nameof(gamma));
        CheckExact(outputGradient.Length, (long)pixels * channels, nameof(outputGradient));
        CheckExact(inverseStd.Length, channels, nameof(inverseStd));
        if (!inputGradient.IsEmpty) CheckExact(inputGradient.Length, (long)pixels * channels, nameof(inputGradient));
        CheckOptional(gammaGradient.Length, channels, nameof(gammaGradient));
        CheckOptional(betaGradient.Length, channels, nameof(betaGradient));
        Span<double> sumDy = stackalloc double[ChannelBlock];
        Span<double> sumDyXhat = stackalloc double[ChannelBlock];
        Span<float> center = stackalloc float[ChannelBlock];
        Span<float> slope = stackalloc float[ChannelBlock];
        Span<float> scale = stackalloc float[ChannelBlock];
        for (int c0 = 0; c0 < channels; c0 += ChannelBlock)
        {
            int count = Math.Min(ChannelBlock, channels - c0);
            GradientSums(input, outputGradient, mean, inverseStd, sumDy, sumDyXhat, pixels, new RowRange(c0, c0 + count));
            for (int c = 0; c < count; c++)
            {
                int k = c0 + c;
                if (!betaGradient.IsEmpty) betaGradient[k] = (float)((accumulate ? betaGradient[k] : 0) + sumDy[c]);
                if (!gammaGradient.IsEmpty) gammaGradient[k] = (float)((accumulate ? gammaGradient[k] : 0) + sumDyXhat[c]);
                // dx = a·(dy − b − (x − μ)·k): a = γ·inverseStd, b = Σdy/P, k = inverseStd · Σ(dy·x̂)/P.
                double g = gamma.IsEmpty ? 1 : gamma[k];
                scale[c] = (float)(g * inverseStd[k]);
                center[c] = (float)(sumDy[c] / pixels);
                slope[c] = (float)(inverseStd[k] * sumDyXhat[c] / pixels);
            }
            if (inputGradient.IsEmpty) continue;
            InputGradient(input, outputGradient, mean, scale[..count], center[..count], slope[..count], inputGradient, c0,
                          RowRange.All(pixels), accumulateInputGradient, width);
        }
    }

    /// <summary>
    /// <see cref="Backward"/>'s input gradient for pixels <paramref name="pixelRange"/> and the channels from
    /// <paramref name="firstChannel"/> on that the coefficients cover: <c>dx (+)= scale · (dy − center − (x − mean) · slope)</c>
    /// with <c>scale = γ · inverseStd</c>, <c>center = Σdy / P</c> and <c>slope = inverseStd · Σ(dy · x̂) / P</c> per channel.
    /// </summary>
    /// <exception cref="ArgumentException">A span's length does not match, or a range is outside the tensor.</exception>
    public static void InputGradient(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> mean,
                                     ReadOnlySpan<float> scale, ReadOnlySpan<float> center, ReadOnlySpan<float> slope, Span<float> inputGradient,
                                     int firstChannel, RowRange pixelRange, bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        int channels = mean.Length, count = scale.Length;
        if (center.Length != count || slope.Length != count || firstChannel < 0 || firstChannel + count > channels)
            throw new ArgumentException($"coefficients for channels {firstChannel}..{firstChannel + count} (center {center.Length}, slope {slope.Length}) do not fit {channels} channels", nameof(scale));
        int pixels = input.Length / channels;
        if (input.Length % channels != 0 || outputGradient.Length != input.Length || inputGradient.Length != input.Length
            || pixelRange.Start < 0 || pixelRange.End > pixels)
            throw new ArgumentException($"pixels {pixelRange.Start}..{pixelRange.End} of input {input.Length}, output gradient {outputGradient.Length} and input gradient {inputGradient.Length} values do not fit {channels} channels", nameof(pixelRange));
        var body = new InputGradientKernel
        {
            Input = input, OutputGradient = outputGradient, Mean = mean, InputGradient = inputGradient, Scale = scale,
            Center = center, Slope = slope, Start = pixelRange.Start, End = pixelRange.End, Channels = channels, First = firstChannel,
            Accumulate = accumulate,
        };
        SimdDispatch.Run(width, ref body);
    }

    private ref struct NormalizeKernel : ISimdKernel
    {
        public ReadOnlySpan<float> Input, Gamma, Beta, Mean, InverseStd;
        public Span<float> Output;
        public int First, End;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            int channels = Mean.Length, lanes = TLanes.Count;
            bool hasGamma = !Gamma.IsEmpty, hasBeta = !Beta.IsEmpty;
            ref float x0 = ref MemoryMarshal.GetReference(Input);
            ref float y0 = ref MemoryMarshal.GetReference(Output);
            ref float g = ref MemoryMarshal.GetReference(Gamma);
            ref float b = ref MemoryMarshal.GetReference(Beta);
            ref float m = ref MemoryMarshal.GetReference(Mean);
            ref float inv = ref MemoryMarshal.GetReference(InverseStd);
            for (int p = First; p < End; p++)
            {
                ref float x = ref Unsafe.Add(ref x0, (nint)p * channels);
                ref float y = ref Unsafe.Add(ref y0, (nint)p * channels);
                int c = 0;
                for (; c + lanes <= channels; c += lanes)
                {
                    nuint i = (nuint)c;
                    var s = TLanes.Load(ref inv, i);
                    if (hasGamma) s = TLanes.Multiply(s, TLanes.Load(ref g, i));
                    var shift = TLanes.Multiply(TLanes.Load(ref m, i), s);
                    shift = hasBeta ? TLanes.Subtract(TLanes.Load(ref b, i), shift) : TLanes.Negate(shift);
                    TLanes.Store(ref y, i, TLanes.Add(TLanes.Multiply(TLanes.Load(ref x, i), s), shift));
                }
                for (; c < channels; c++)
                {
                    float s = Unsafe.Add(ref inv, c);
                    if (hasGamma) s *= Unsafe.Add(ref g, c);
                    float shift = (hasBeta ? Unsafe.Add(ref b, c) : 0f) - Unsafe.Add(ref m, c) * s;
                    Unsafe.Add(ref y, c) = Unsafe.Add(ref x, c) * s + shift;
                }
            }
        }
    }

    private ref struct InputGradientKernel : ISimdKernel
    {
        public ReadOnlySpan<float> Input, OutputGradient, Mean, Scale, Center, Slope;
        public Span<float> InputGradient;
        public int Start, End, Channels, First;
        public bool Accumulate;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            int count = Scale.Length, lanes = TLanes.Count;
            bool accumulate = Accumulate;
            ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(Input), First);
            ref float dy0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(OutputGradient), First);
            ref float dx0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(InputGradient), First);
            ref float m = ref Unsafe.Add(ref MemoryMarshal.GetReference(Mean), First);
            ref float a = ref MemoryMarshal.GetReference(Scale);
            ref float b = ref MemoryMarshal.GetReference(Center);
            ref float k = ref MemoryMarshal.GetReference(Slope);
            for (int p = Start; p < End; p++)
            {
                nint row = (nint)p * Channels;
                ref float x = ref Unsafe.Add(ref x0, row);
                ref float dy = ref Unsafe.Add(ref dy0, row);
                ref float dx = ref Unsafe.Add(ref dx0, row);
                int c = 0;
                for (; c + lanes <= count; c += lanes)
                {
                    nuint i = (nuint)c;
                    var centered = TLanes.Subtract(TLanes.Load(ref x, i), TLanes.Load(ref m, i));
                    var inner = TLanes.Subtract(TLanes.Subtract(TLanes.Load(ref dy, i), TLanes.Load(ref b, i)), TLanes.Multiply(centered, TLanes.Load(ref k, i)));
                    var gradient = TLanes.Multiply(TLanes.Load(ref a, i), inner);
                    TLanes.Store(ref dx, i, accumulate ? TLanes.Add(TLanes.Load(ref dx, i), gradient) : gradient);
                }
                for (; c < count; c++)
                {
                    float centered = Unsafe.Add(ref x, c) - Unsafe.Add(ref m, c);
                    float gradient = Unsafe.Add(ref a, c) * (Unsafe.Add(ref dy, c) - Unsafe.Add(ref b, c) - centered * Unsafe.Add(ref k, c));
                    Unsafe.Add(ref dx, c) = accumulate ? Unsafe.Add(ref dx, c) + gradient : gradient;
                }
            }
        }
    }

    private static void CheckCommon(int inputLength, int pixels, int channels, int gammaLength, string gammaName)
    {
        if (pixels < 1) throw new ArgumentOutOfRangeException(nameof(pixels), pixels, "batch statistics need at least one pixel");
        if (channels < 1) throw new ArgumentException("mean must hold one value per channel (at least one)", "mean");
        CheckExact(inputLength, (long)pixels * channels, "input");
        CheckOptional(gammaLength, channels, gammaName);
    }

    private static void CheckRange(RowRange range, int channels, int scratch)
    {
        if (range.Start < 0 || range.End > channels || range.Count < 0)
            throw new ArgumentException($"channels {range.Start}..{range.End} are outside 0..{channels}", nameof(range));
        if (scratch < range.Count) throw new ArgumentException($"the sums hold {scratch} values, fewer than the {range.Count} channels", nameof(range));
    }

    private static void CheckExact(int length, long expected, string name)
    {
        if (length != expected) throw new ArgumentException($"{name} has {length} elements, expected {expected}", name);
    }

    private static void CheckOptional(int length, int channels, string name)
    {
        if (length != 0 && length != channels) throw new ArgumentException($"{name} has {length} elements, expected {channels} or none", name);
    }
}
