using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Gradients of the element-wise, broadcast, copy and dropout ops, and the fan-out accumulation a training graph needs
/// where one tensor feeds several ops. Written over <see cref="ILanes{TVector}"/> where there is arithmetic; tails run
/// on the scalar lane (the destinations accumulate, so no overlapping vector).
/// </summary>
/// <remarks>
/// Dropout draws from a counter-based generator: element <c>i</c>'s uniform is a hash of <c>(seed, offset + i)</c>, so the
/// mask depends only on the seed and each element's index, never on how threads split the tensor or on call order. It
/// follows Keras's inverted dropout (TensorFlow's <c>nn.dropout</c>: keep where <c>uniform ≥ rate</c>, scale kept values
/// by <c>1 / (1 − rate)</c>) but is not TensorFlow's Philox stream: masks are not bit-identical to Keras's.
/// </remarks>
public static class ElementwiseBackwardKernels
{
    /// <summary><c>destination[i] += source[i]</c>: the fan-out sum of the gradients of a tensor used more than once.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Accumulate(ReadOnlySpan<float> source, Span<float> destination, SimdWidth width = SimdWidth.Auto)
    {
        CheckSame(source.Length, destination.Length, nameof(destination));
        var body = new BinaryKernel { A = source, B = default, Destination = destination, Mode = BinaryMode.Add };
        SimdDispatch.Run(width, ref body);
    }

    /// <summary>
    /// The gradient of each addend of <c>Add</c> (and of an identity): <c>inputGradient = outputGradient</c>, or
    /// <c>+=</c> when <paramref name="accumulate"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Add(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        CheckSame(outputGradient.Length, inputGradient.Length, nameof(inputGradient));
        if (accumulate) Accumulate(outputGradient, inputGradient, width);
        else outputGradient.CopyTo(inputGradient);
    }

    /// <summary>
    /// The gradients of <c>y = left · right</c>: <c>leftGradient (+)= outputGradient · right</c> and
    /// <c>rightGradient (+)= outputGradient · left</c>. Either gradient may be empty (not needed).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Multiply(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> left, ReadOnlySpan<float> right,
                                Span<float> leftGradient, Span<float> rightGradient, bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        CheckSame(outputGradient.Length, left.Length, nameof(left));
        CheckSame(outputGradient.Length, right.Length, nameof(right));
        if (!leftGradient.IsEmpty) MultiplyInto(outputGradient, right, leftGradient, accumulate, width);
        if (!rightGradient.IsEmpty) MultiplyInto(outputGradient, left, rightGradient, accumulate, width);
    }

    /// <summary>
    /// The gradients of one image of the squeeze-and-excitation product <c>y[p, c] = input[p, c] · channelScale[c]</c>
    /// (<see cref="ElementwiseKernels.MultiplyByChannel"/>, <c>(N, H, W, C) · (N, 1, 1, C)</c>):
    /// <c>inputGradient[p, c] (+)= outputGradient[p, c] · channelScale[c]</c> and
    /// <c>scaleGradient[c] (+)= Σ_p outputGradient[p, c] · input[p, c]</c>. Either gradient may be empty.
    /// </summary>
    /// <param name="outputGradient"><c>(pixels, channels)</c> of one image.</param>
    /// <param name="input">The forward input of the image, <c>(pixels, channels)</c>.</param>
    /// <param name="channelScale">The forward scale, <c>(channels)</c>: the channel count.</param>
    /// <param name="inputGradient"><c>(pixels, channels)</c>, or empty.</param>
    /// <param name="scaleGradient"><c>(channels)</c>, or empty.</param>
    /// <param name="accumulate">Add to the gradients instead of overwriting them.</param>
    /// <param name="width">The SIMD width.</param>
    /// <exception cref="ArgumentException">The lengths do not match.</exception>
    public static void MultiplyByChannel(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> channelScale,
                                         Span<float> inputGradient, Span<float> scaleGradient, bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        int channels = channelScale.Length;
        if (channels == 0 || outputGradient.Length % channels != 0)
            throw new ArgumentException($"outputGradient has {outputGradient.Length} elements, not a multiple of the {channels} channels", nameof(outputGradient));
        CheckSame(outputGradient.Length, input.Length, nameof(input));
        if (!inputGradient.IsEmpty) CheckSame(outputGradient.Length, inputGradient.Length, nameof(inputGradient));
        if (!scaleGradient.IsEmpty) CheckSame(channels, scaleGradient.Length, nameof(scaleGradient));
        var body = new ChannelKernel
        {
            OutputGradient = outputGradient, Input = input, Scale = channelScale, InputGradient = inputGradient, ScaleGradient = scaleGradient, Accumulate = accumulate,
        };
        SimdDispatch.Run(width, ref body);
    }

    /// <summary>
    /// The gradient of <c>ZeroPadding2D</c>: the middle of the output gradient, <c>inputGradient[n, y, x, c] (+)=
    /// outputGradient[n, y + top, x + left, c]</c>, for input rows <paramref name="inputRows"/> of <c>batch · inputHeight</c>.
    /// </summary>
    /// <param name="outputGradient">NHWC <c>(batch, outputHeight, outputWidth, channels)</c> of the padded tensor.</param>
    /// <param name="inputGradient">NHWC <c>(batch, inputHeight, inputWidth, channels)</c>.</param>
    /// <param name="p">The forward padding.</param>
    /// <param name="inputRows">Input rows to write.</param>
    /// <param name="accumulate">Add instead of overwriting.</param>
    /// <param name="width">The SIMD width.</param>
    /// <exception cref="ArgumentException">A size or pad is negative, or a span is shorter than the shapes need.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputRows"/> is outside <c>[0, batch · inputHeight]</c>.</exception>
    public static void ZeroPadding2D(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, in ZeroPadding2DParams p, RowRange inputRows,
                                     bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        CheckPadding(in p);
        int c = p.Channels, inner = p.InputWidth * c, outRow = p.OutputWidth * c;
        BackwardLoops.CheckLength(outputGradient.Length, WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, c), nameof(outputGradient));
        BackwardLoops.CheckLength(inputGradient.Length, WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, c), nameof(inputGradient));
        BackwardLoops.CheckRows(inputRows, (long)p.Batch * p.InputHeight, nameof(inputRows));
        for (int row = inputRows.Start; row < inputRows.End; row++)
        {
            int n = row / Math.Max(1, p.InputHeight), y = row - n * p.InputHeight;
            var source = outputGradient.Slice((n * p.OutputHeight + y + p.Padding.Top) * outRow + p.Padding.Left * c, inner);
            var destination = inputGradient.Slice(row * inner, inner);
            if (accumulate) Accumulate(source, destination, width);
            else source.CopyTo(destination);
        }
    }

    /// <summary>
    /// The gradient of <c>Cropping2D</c>: the output gradient placed back in a zero border, which is the forward
    /// <see cref="PoolingKernels.ZeroPad"/> with the cropping as the padding. <paramref name="p"/> describes that padding:
    /// its input is the cropped tensor (the forward output) and its padding the cropping; rows are
    /// <see cref="ZeroPadding2DParams.RowCount"/> (rows of the uncropped input gradient). Overwrites.
    /// </summary>
    /// <exception cref="ArgumentException">A size or pad is negative, or a span is shorter than the shapes need.</exception>
    public static void Cropping2D(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, in ZeroPadding2DParams p, RowRange rows)
        => PoolingKernels.ZeroPad(outputGradient, inputGradient, in p, rows);

    /// <summary>
    /// The gradient of nearest-neighbour <c>UpSampling2D</c> (<see cref="ResamplingKernels.Nearest"/>): each input pixel
    /// gathers the <c>fh · fw</c> output pixels it was copied to, <c>inputGradient[n, y, x, c] (+)= Σ outputGradient[n, y·fh + i, x·fw + j, c]</c>,
    /// for input rows <paramref name="inputRows"/> of <c>batch · inputHeight</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A size or factor is out of range, or a span is shorter than the shapes need.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputRows"/> is outside <c>[0, batch · inputHeight]</c>.</exception>
    public static void UpSampling2DNearest(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, in UpSampling2DParams p, RowRange inputRows,
                                           bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        if (p.Batch < 0 || p.InputHeight < 0 || p.InputWidth < 0 || p.Channels < 0 || p.HeightFactor < 1 || p.WidthFactor < 1
            || WindowChecks.Count(p.Batch, p.InputHeight, p.HeightFactor, p.InputWidth, p.WidthFactor, p.Channels) > int.MaxValue)
            throw new ArgumentException($"Sizes must be non-negative, factors positive, and the output fit 32-bit lengths: {p}.", nameof(p));
        BackwardLoops.CheckLength(outputGradient.Length, WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.Channels), nameof(outputGradient));
        BackwardLoops.CheckLength(inputGradient.Length, WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.Channels), nameof(inputGradient));
        BackwardLoops.CheckRows(inputRows, (long)p.Batch * p.InputHeight, nameof(inputRows));
        var body = new UpSamplingKernel { OutputGradient = outputGradient, InputGradient = inputGradient, Params = p, Rows = inputRows, Accumulate = accumulate };
        SimdDispatch.Run(width, ref body);
    }

    /// <summary>
    /// The gradient of bilinear <c>UpSampling2D</c> (<see cref="ResamplingKernels.Bilinear"/>, half-pixel centres): each output
    /// pixel's gradient goes back to its four input neighbours with the weights it was sampled with,
    /// <c>(1 − wy)(1 − wx)</c>, <c>(1 − wy)·wx</c>, <c>wy·(1 − wx)</c> and <c>wy·wx</c> (neighbours clamped to the edge receive
    /// the sum of their weights), for the images <paramref name="images"/> of <c>batch</c>: one image's input gradient is
    /// written by one call only.
    /// </summary>
    /// <param name="outputGradient">NHWC <c>(batch, inputHeight · fh, inputWidth · fw, channels)</c>.</param>
    /// <param name="inputGradient">NHWC <c>(batch, inputHeight, inputWidth, channels)</c>.</param>
    /// <param name="p">Shapes and factors.</param>
    /// <param name="rowAxis">The forward's sample positions along the height.</param>
    /// <param name="columnAxis">The forward's sample positions along the width.</param>
    /// <param name="images">Images to compute.</param>
    /// <param name="accumulate">Add instead of overwriting.</param>
    /// <exception cref="ArgumentException">A size is out of range, the axes do not cover the output, or a span is shorter than the shapes need.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="images"/> is outside <c>[0, batch]</c>.</exception>
    public static void UpSampling2DBilinear(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, in UpSampling2DParams p,
                                            BilinearAxis rowAxis, BilinearAxis columnAxis, RowRange images, bool accumulate)
    {
        ArgumentNullException.ThrowIfNull(rowAxis);
        ArgumentNullException.ThrowIfNull(columnAxis);
        if (p.Batch < 0 || p.InputHeight < 0 || p.InputWidth < 0 || p.Channels < 0 || p.HeightFactor < 1 || p.WidthFactor < 1
            || WindowChecks.Count(p.Batch, p.InputHeight, p.HeightFactor, p.InputWidth, p.WidthFactor, p.Channels) > int.MaxValue)
            throw new ArgumentException($"Sizes must be non-negative, factors positive, and the output fit 32-bit lengths: {p}.", nameof(p));
        if (rowAxis.Weight.Length != p.OutputHeight || columnAxis.Weight.Length != p.OutputWidth)
            throw new ArgumentException($"the axes cover {rowAxis.Weight.Length} x {columnAxis.Weight.Length} outputs, the shapes need {p.OutputHeight} x {p.OutputWidth}");
        BackwardLoops.CheckLength(outputGradient.Length, WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.Channels), nameof(outputGradient));
        BackwardLoops.CheckLength(inputGradient.Length, WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.Channels), nameof(inputGradient));
        BackwardLoops.CheckRows(images, p.Batch, nameof(images));
        int c = p.Channels, inImage = p.InputHeight * p.InputWidth * c, outRow = p.OutputWidth * c;
        for (int n = images.Start; n < images.End; n++)
        {
            var dx = inputGradient.Slice(n * inImage, inImage);
            if (!accumulate) dx.Clear();
            for (int y = 0; y < p.OutputHeight; y++)
            {
                float wy = rowAxis.Weight[y];
                int top = rowAxis.Lower[y] * p.InputWidth * c, bottom = rowAxis.Upper[y] * p.InputWidth * c;
                var dyRow = outputGradient.Slice((n * p.OutputHeight + y) * outRow, outRow);
                for (int x = 0; x < p.OutputWidth; x++)
                {
                    float wx = columnAxis.Weight[x];
                    int left = columnAxis.Lower[x] * c, right = columnAxis.Upper[x] * c;
                    var dy = dyRow.Slice(x * c, c);
                    // The forward rounds each lerp on its own; the gradient of the exact bilinear form is what autograd gives.
                    Scatter(dy, (1 - wy) * (1 - wx), dx.Slice(top + left, c));
                    Scatter(dy, (1 - wy) * wx, dx.Slice(top + right, c));
                    Scatter(dy, wy * (1 - wx), dx.Slice(bottom + left, c));
                    Scatter(dy, wy * wx, dx.Slice(bottom + right, c));
                }
            }
        }
    }

    private static void Scatter(ReadOnlySpan<float> source, float weight, Span<float> destination)
    {
        if (weight != 0f) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(source, weight, destination, destination);
    }

    /// <summary>
    /// The gradients of <c>y = left − right</c> (Keras <c>Subtract</c>): <c>leftGradient (+)= outputGradient</c>,
    /// <c>rightGradient (+)= −outputGradient</c>. Either gradient may be empty (not needed).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Subtract(ReadOnlySpan<float> outputGradient, Span<float> leftGradient, Span<float> rightGradient, bool accumulate,
                                SimdWidth width = SimdWidth.Auto)
    {
        if (!leftGradient.IsEmpty) Add(outputGradient, leftGradient, accumulate, width);
        if (rightGradient.IsEmpty) return;
        CheckSame(outputGradient.Length, rightGradient.Length, nameof(rightGradient));
        var body = new BinaryKernel { A = outputGradient, Destination = rightGradient, Scalar = -1f, Mode = accumulate ? BinaryMode.ScaleAdd : BinaryMode.Scale };
        SimdDispatch.Run(width, ref body);
    }

    /// <summary>
    /// The gradients of <c>y = maximum(left, right)</c> (or <c>minimum</c>) as TensorFlow's <c>MaximumGrad</c>/<c>MinimumGrad</c>
    /// route them: all of <c>outputGradient</c> to <paramref name="left"/> where <c>left ≥ right</c> (<c>left ≤ right</c> for the
    /// minimum), ties included, and to <paramref name="right"/> elsewhere (a NaN compares false: the right input gets it).
    /// <paramref name="leftGradient"/> and <paramref name="rightGradient"/> always overwrite and may be empty;
    /// <paramref name="leftGradient"/> may be <paramref name="outputGradient"/> itself (element <c>i</c> is read before it is written).
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Extremum(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> left, ReadOnlySpan<float> right,
                                Span<float> leftGradient, Span<float> rightGradient, bool maximum)
    {
        int length = outputGradient.Length;
        CheckTwoOperands(length, left, right, leftGradient, rightGradient);
        for (int i = 0; i < length; i++)
        {
            float dy = outputGradient[i];
            bool toLeft = maximum ? left[i] >= right[i] : left[i] <= right[i];
            if (!rightGradient.IsEmpty) rightGradient[i] = toLeft ? 0f : dy;
            if (!leftGradient.IsEmpty) leftGradient[i] = toLeft ? dy : 0f;
        }
    }

    /// <summary>
    /// The gradients of one row of PReLU, <c>y = x</c> for <c>x ≥ 0</c> and <c>alpha · x</c> below (Keras's
    /// <c>relu(x) − alpha · relu(−x)</c>, differentiated as TensorFlow does, with <c>relu'(0) = 0</c>):
    /// <c>inputGradient (+)= dy</c> where <c>x &gt; 0</c>, <c>alpha · dy</c> where <c>x &lt; 0</c>, 0 at 0; and
    /// <c>alphaGradient (+)= dy · x</c> where <c>x &lt; 0</c>. Slopes, inputs and gradients are all one row long (the caller
    /// broadcasts the slopes over the row and sums the slope gradient back over shared axes). Either gradient may be empty.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void PRelu(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> input, ReadOnlySpan<float> alpha,
                             Span<float> inputGradient, Span<float> alphaGradient, bool accumulate)
    {
        int length = outputGradient.Length;
        CheckTwoOperands(length, input, alpha, inputGradient, alphaGradient);
        for (int i = 0; i < length; i++)
        {
            float x = input[i], dy = outputGradient[i];
            if (!inputGradient.IsEmpty)
            {
                float dx = x > 0f ? dy : x < 0f ? alpha[i] * dy : 0f;
                inputGradient[i] = accumulate ? inputGradient[i] + dx : dx;
            }
            if (!alphaGradient.IsEmpty)
            {
                float da = x < 0f ? dy * x : 0f;
                alphaGradient[i] = accumulate ? alphaGradient[i] + da : da;
            }
        }
    }

    /// <summary>
    /// The gradient of one input of <c>Concatenate</c> along channels: its channel slice
    /// <c>[channelOffset, channelOffset + inputChannels)</c> of every pixel, <c>inputChannels = inputGradient.Length / pixels</c>.
    /// </summary>
    /// <param name="outputGradient"><c>(pixels, outputChannels)</c>.</param>
    /// <param name="inputGradient"><c>(pixels, inputChannels)</c>.</param>
    /// <param name="pixels"><c>batch · height · width</c>.</param>
    /// <param name="outputChannels">Channels of the concatenation.</param>
    /// <param name="channelOffset">Where this input's channels start in the concatenation.</param>
    /// <param name="accumulate">Add instead of overwriting.</param>
    /// <param name="width">The SIMD width.</param>
    /// <exception cref="ArgumentException">The lengths, the offset or the channel counts do not fit.</exception>
    public static void ConcatenateChannels(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int pixels, int outputChannels,
                                           int channelOffset, bool accumulate, SimdWidth width = SimdWidth.Auto)
    {
        if (pixels < 1 || inputGradient.Length % pixels != 0)
            throw new ArgumentException($"inputGradient has {inputGradient.Length} elements, not a positive multiple of {pixels} pixels", nameof(inputGradient));
        int channels = inputGradient.Length / pixels;
        if (channelOffset < 0 || outputChannels < 0 || (long)channelOffset + channels > outputChannels)
            throw new ArgumentException($"channels [{channelOffset}, {(long)channelOffset + channels}) do not fit the {outputChannels} of the concatenation", nameof(channelOffset));
        CheckSame((long)pixels * outputChannels, outputGradient.Length, nameof(outputGradient));
        for (int p = 0; p < pixels; p++)
        {
            var source = outputGradient.Slice(p * outputChannels + channelOffset, channels);
            var destination = inputGradient.Slice(p * channels, channels);
            if (accumulate) Accumulate(source, destination, width);
            else source.CopyTo(destination);
        }
    }

    /// <summary>
    /// Writes an inverted-dropout mask: <c>mask[i] = u(seed, offset + i) ≥ rate ? 1 / (1 − rate) : 0</c>, <c>u</c> uniform in
    /// [0, 1) with 24 random bits. Dropout's forward is then <c>y = x · mask</c> (<see cref="ElementwiseKernels.Multiply"/>)
    /// and its backward <c>dx = dy · mask</c> (<see cref="Dropout"/>); a per-sample mask of <c>batch</c> values is
    /// EfficientNet's drop-connect (Keras <c>Dropout(noise_shape=(None, 1, 1, 1))</c>, <see cref="MultiplyBySample"/>).
    /// </summary>
    /// <param name="mask">The values to write.</param>
    /// <param name="rate">Keras <c>rate</c>, in [0, 1).</param>
    /// <param name="seed">The generator's seed: a training step should pass a fresh one (e.g. a step counter mixed with the layer).</param>
    /// <param name="offset">The index of <c>mask[0]</c> in the whole mask, so that slices written by different threads draw as one call would.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1) or <paramref name="offset"/> is negative.</exception>
    public static void DropoutMask(Span<float> mask, float rate, ulong seed, long offset)
    {
        if (!(rate >= 0f && rate < 1f)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "the dropout rate must lie in [0, 1)");
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        float scale = 1f / (1f - rate);
        for (int i = 0; i < mask.Length; i++)
        {
            float u = (Mix(seed, (ulong)(offset + i)) >> 40) * (1f / (1 << 24));
            mask[i] = u >= rate ? scale : 0f;
        }
    }

    /// <summary>The gradient of dropout: <c>inputGradient (+)= outputGradient · mask</c> with the mask of <see cref="DropoutMask"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Dropout(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> mask, Span<float> inputGradient, bool accumulate,
                               SimdWidth width = SimdWidth.Auto)
    {
        CheckSame(outputGradient.Length, mask.Length, nameof(mask));
        MultiplyInto(outputGradient, mask, inputGradient, accumulate, width);
    }

    /// <summary>
    /// <c>output[n, …] (+)= input[n, …] · sampleScale[n]</c> over <c>sampleScale.Length</c> equal samples: both the forward and
    /// the backward (with gradients as input and output) of drop-connect with a per-sample mask.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths differ or are not a multiple of the sample count.</exception>
    public static void MultiplyBySample(ReadOnlySpan<float> input, ReadOnlySpan<float> sampleScale, Span<float> output, bool accumulate,
                                        SimdWidth width = SimdWidth.Auto)
    {
        int samples = sampleScale.Length;
        if (samples == 0 || input.Length % samples != 0)
            throw new ArgumentException($"input has {input.Length} elements, not a multiple of the {samples} samples", nameof(input));
        CheckSame(input.Length, output.Length, nameof(output));
        int length = input.Length / samples;
        for (int n = 0; n < samples; n++)
        {
            var body = new BinaryKernel
            {
                A = input.Slice(n * length, length), Destination = output.Slice(n * length, length), Scalar = sampleScale[n],
                Mode = accumulate ? BinaryMode.ScaleAdd : BinaryMode.Scale,
            };
            SimdDispatch.Run(width, ref body);
        }
    }

    private static void MultiplyInto(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination, bool accumulate, SimdWidth width)
    {
        CheckSame(a.Length, destination.Length, nameof(destination));
        var body = new BinaryKernel { A = a, B = b, Destination = destination, Mode = accumulate ? BinaryMode.MultiplyAdd : BinaryMode.Multiply };
        SimdDispatch.Run(width, ref body);
    }

    /// <summary>SplitMix64's finalizer over the seed and the counter: a stateless, well-mixed 64-bit hash.</summary>
    private static ulong Mix(ulong seed, ulong counter)
    {
        ulong z = seed + (counter + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private enum BinaryMode { Add, Multiply, MultiplyAdd, Scale, ScaleAdd }

    private ref struct BinaryKernel : ISimdKernel
    {
        public ReadOnlySpan<float> A, B;
        public Span<float> Destination;
        public float Scalar;
        public BinaryMode Mode;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            ref float a = ref MemoryMarshal.GetReference(A);
            ref float b = ref MemoryMarshal.GetReference(B);
            ref float d = ref MemoryMarshal.GetReference(Destination);
            int i = Body<TLanes, TVector>(ref a, ref b, ref d, 0, Destination.Length, Scalar, Mode);
            Body<LanesScalar, float>(ref a, ref b, ref d, i, Destination.Length, Scalar, Mode);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static int Body<TLanes, TVector>(ref float a, ref float b, ref float d, int start, int length, float scalar, BinaryMode mode)
            where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            int lanes = TLanes.Count, i = start;
            var s = TLanes.Create(scalar);
            for (; i + lanes <= length; i += lanes)
            {
                nuint at = (nuint)i;
                var x = TLanes.Load(ref a, at);
                TLanes.Store(ref d, at, mode switch
                {
                    BinaryMode.Add => TLanes.Add(TLanes.Load(ref d, at), x),
                    BinaryMode.Multiply => TLanes.Multiply(x, TLanes.Load(ref b, at)),
                    BinaryMode.MultiplyAdd => TLanes.Add(TLanes.Load(ref d, at), TLanes.Multiply(x, TLanes.Load(ref b, at))),
                    BinaryMode.Scale => TLanes.Multiply(x, s),
                    _ => TLanes.Add(TLanes.Load(ref d, at), TLanes.Multiply(x, s)),
                });
            }
            return i;
        }
    }

    private ref struct ChannelKernel : ISimdKernel
    {
        public ReadOnlySpan<float> OutputGradient, Input, Scale;
        public Span<float> InputGradient, ScaleGradient;
        public bool Accumulate;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            int channels = Scale.Length, pixels = OutputGradient.Length / channels;
            if (!ScaleGradient.IsEmpty && !Accumulate) ScaleGradient.Clear();
            ref float dy0 = ref MemoryMarshal.GetReference(OutputGradient);
            ref float x0 = ref MemoryMarshal.GetReference(Input);
            ref float s = ref MemoryMarshal.GetReference(Scale);
            ref float dx0 = ref MemoryMarshal.GetReference(InputGradient);
            ref float ds = ref MemoryMarshal.GetReference(ScaleGradient);
            for (int p = 0; p < pixels; p++)
            {
                nint row = (nint)p * channels;
                ref float dy = ref Unsafe.Add(ref dy0, row);
                if (!ScaleGradient.IsEmpty) BackwardLoops.MultiplyAdd<TLanes, TVector>(ref dy, ref Unsafe.Add(ref x0, row), ref ds, channels);
                if (InputGradient.IsEmpty) continue;
                ref float dx = ref Unsafe.Add(ref dx0, row);
                if (Accumulate)
                {
                    BackwardLoops.MultiplyAdd<TLanes, TVector>(ref dy, ref s, ref dx, channels);
                    continue;
                }
                int lanes = TLanes.Count, c = 0;
                for (; c + lanes <= channels; c += lanes)
                    TLanes.Store(ref dx, (nuint)c, TLanes.Multiply(TLanes.Load(ref dy, (nuint)c), TLanes.Load(ref s, (nuint)c)));
                for (; c < channels; c++) Unsafe.Add(ref dx, c) = Unsafe.Add(ref dy, c) * Unsafe.Add(ref s, c);
            }
        }
    }

    private ref struct UpSamplingKernel : ISimdKernel
    {
        public ReadOnlySpan<float> OutputGradient;
        public Span<float> InputGradient;
        public UpSampling2DParams Params;
        public RowRange Rows;
        public bool Accumulate;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            var p = Params;
            int c = p.Channels, lanes = TLanes.Count, outW = p.OutputWidth;
            ref float dy0 = ref MemoryMarshal.GetReference(OutputGradient);
            ref float dx0 = ref MemoryMarshal.GetReference(InputGradient);
            for (int row = Rows.Start; row < Rows.End; row++)
            {
                int n = row / p.InputHeight, y = row - n * p.InputHeight;
                for (int x = 0; x < p.InputWidth; x++)
                {
                    ref float dx = ref Unsafe.Add(ref dx0, ((nint)row * p.InputWidth + x) * c);
                    // The block's top-left output pixel; its rows are OutputWidth pixels apart.
                    ref float block = ref Unsafe.Add(ref dy0, (((nint)n * p.OutputHeight + (nint)y * p.HeightFactor) * outW + (nint)x * p.WidthFactor) * c);
                    int ch = 0;
                    for (; ch + lanes <= c; ch += lanes)
                    {
                        var acc = Accumulate ? TLanes.Load(ref dx, (nuint)ch) : TLanes.Zero;
                        for (int i = 0; i < p.HeightFactor; i++)
                            for (int j = 0; j < p.WidthFactor; j++)
                                acc = TLanes.Add(acc, TLanes.Load(ref block, (nuint)(((nint)i * outW + j) * c + ch)));
                        TLanes.Store(ref dx, (nuint)ch, acc);
                    }
                    for (; ch < c; ch++)
                    {
                        float acc = Accumulate ? Unsafe.Add(ref dx, ch) : 0f;
                        for (int i = 0; i < p.HeightFactor; i++)
                            for (int j = 0; j < p.WidthFactor; j++)
                                acc += Unsafe.Add(ref block, ((nint)i * outW + j) * c + ch);
                        Unsafe.Add(ref dx, ch) = acc;
                    }
                }
            }
        }
    }

    private static void CheckPadding(in ZeroPadding2DParams p)
    {
        var pad = p.Padding;
        if (p.Batch < 0 || p.InputHeight < 0 || p.InputWidth < 0 || p.Channels < 0 || pad.Top < 0 || pad.Bottom < 0 || pad.Left < 0 || pad.Right < 0)
            throw new ArgumentException($"Sizes and pads must be non-negative: {p}.", nameof(p));
        long height = (long)p.InputHeight + pad.Top + pad.Bottom, width = (long)p.InputWidth + pad.Left + pad.Right;
        if (WindowChecks.Count(p.Batch, (int)Math.Min(height, int.MaxValue), (int)Math.Min(width, int.MaxValue), p.Channels) > int.MaxValue
            || height > int.MaxValue || width > int.MaxValue)
            throw new ArgumentException($"The padded tensor {p.Batch} x {height} x {width} x {p.Channels} does not fit 32-bit lengths: {p}.", nameof(p));
    }

    /// <summary>
    /// Checks that two operands and their gradients, which may be empty (not wanted), are all <paramref name="length"/> long.
    /// </summary>
    private static void CheckTwoOperands(int length, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> aGradient,
                                         ReadOnlySpan<float> bGradient,
                                         [CallerArgumentExpression(nameof(a))] string aName = "",
                                         [CallerArgumentExpression(nameof(b))] string bName = "",
                                         [CallerArgumentExpression(nameof(aGradient))] string aGradientName = "",
                                         [CallerArgumentExpression(nameof(bGradient))] string bGradientName = "")
    {
        CheckSame(length, a.Length, aName);
        CheckSame(length, b.Length, bName);
        if (!aGradient.IsEmpty) CheckSame(length, aGradient.Length, aGradientName);
        if (!bGradient.IsEmpty) CheckSame(length, bGradient.Length, bGradientName);
    }

    private static void CheckSame(long expected, int length, string name)
    {
        if (length != expected) throw new ArgumentException($"{name} has {length} elements, expected {expected}", name);
    }
}
