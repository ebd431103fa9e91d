using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tensors;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>
/// The packed GEMM at every SIMD width against the float64 reference: pixel and panel sub-ranges, partial panels and
/// tiles, residuals, fused activations, input channel scales.
/// </summary>
public class PointwiseConvKernelTests
{
    /// <summary>Sentinel written before a partial run: elements outside the range must still hold it afterwards.</summary>
    private const float Untouched = 12345.5f;

    /// <summary>Every width forced, and the default (<see cref="SimdWidth.Auto"/>) the ops use.</summary>
    private static readonly SimdWidth[] Widths = [SimdWidth.Auto, SimdWidth.Scalar, SimdWidth.Vector128, SimdWidth.Vector256, SimdWidth.Vector512];

    // NxHxW, input channels, output channels, bias, residual, activation
    public static TheoryData<string, int, int, bool, bool, ReferenceActivation> Cases => new()
    {
        // Single pixels and output channels, and every pixel tail of both tile heights (12 and 6).
        { "1x1x1", 3, 1, false, false, ReferenceActivation.Identity },
        { "1x1x7", 16, 5, true, false, ReferenceActivation.Relu },
        { "2x1x7", 17, 24, true, true, ReferenceActivation.Swish },
        { "1x7x7", 144, 40, true, false, ReferenceActivation.Relu6 },
        { "2x7x7", 17, 33, false, true, ReferenceActivation.Relu },
        { "1x97x1", 3, 16, true, false, ReferenceActivation.Swish },
        { "1x1x97", 16, 112, true, true, ReferenceActivation.Identity },
        { "1x7x13", 33, 17, true, true, ReferenceActivation.Relu6 },
        // H ≠ W, odd sizes, channel counts off every vector width.
        { "2x5x3", 7, 1280, true, false, ReferenceActivation.Swish },
        { "1x3x5", 960, 40, true, true, ReferenceActivation.Identity },
        { "1x56x56", 3, 24, true, false, ReferenceActivation.Relu },
        { "1x11x9", 144, 24, false, false, ReferenceActivation.Identity },
        { "2x4x6", 17, 64, true, true, ReferenceActivation.Relu },
        { "1x2x11", 5, 8, true, true, ReferenceActivation.Swish },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReferenceOnEveryWidth(string shape, int inputChannels, int outputChannels, bool hasBias, bool hasResidual,
                                             ReferenceActivation activation)
    {
        var dims = Conv2DKernelTests.Dims(shape);
        var (batch, height, width) = (dims[0], dims[1], dims[2]);
        int pixels = batch * height * width;
        var p = new PointwiseConvParams(pixels, inputChannels, outputChannels);
        int seed = ((pixels * 31 + inputChannels) * 31 + outputChannels) * 31 + (hasBias ? 1 : 0) + (hasResidual ? 2 : 0);
        var input = TestData.Uniform(seed, pixels * inputChannels);
        var kernel = TestData.Uniform(seed + 1, inputChannels * outputChannels);
        float[]? bias = hasBias ? TestData.Uniform(seed + 2, outputChannels) : null;
        float[]? residual = hasResidual ? TestData.Uniform(seed + 3, pixels * outputChannels) : null;
        var expected = Reference(input, kernel, bias, residual, batch, height, width, inputChannels, outputChannels, activation);
        double scale = Math.Sqrt(inputChannels);

        foreach (var simd in Widths)
        {
            using var packed = Pack(simd, kernel, bias, inputChannels, outputChannels);
            var output = new float[expected.Length];
            Array.Fill(output, Untouched);
            // A middle block of pixels × panels first: nothing outside it may change; then the rest, and the whole must match.
            int a = pixels / 3, b = Math.Max(a, 2 * pixels / 3);
            int firstPanel = packed.PanelCount / 3, endPanel = Math.Max(firstPanel + 1, 2 * packed.PanelCount / 3);
            int firstColumn = firstPanel * packed.PanelWidth, endColumn = Math.Min(outputChannels, endPanel * packed.PanelWidth);
            Run(simd, activation, input, packed, residual, output, p, new RowRange(a, b), new RowRange(firstPanel, endPanel));
            for (int i = 0; i < output.Length; i++)
            {
                int pixel = i / outputChannels, column = i % outputChannels;
                if (pixel < a || pixel >= b || column < firstColumn || column >= endColumn)
                    Assert.True(output[i] == Untouched, $"{simd}: element {i} (pixel {pixel}, channel {column}) outside the range was written");
            }
            Run(simd, activation, input, packed, residual, output, p, new RowRange(a, b), new RowRange(0, firstPanel));
            Run(simd, activation, input, packed, residual, output, p, new RowRange(a, b), new RowRange(endPanel, packed.PanelCount));
            Run(simd, activation, input, packed, residual, output, p, new RowRange(0, a), RowRange.All(packed.PanelCount));
            Run(simd, activation, input, packed, residual, output, p, new RowRange(b, pixels), RowRange.All(packed.PanelCount));
            Precision.AssertClose(expected, output, scale: scale, what: simd.ToString());
        }
    }

    [Theory]
    // Images of 49, 1, 13 and 144 pixels: ranges that start and end inside images, tiles that straddle image boundaries.
    [InlineData(3, 7, 7, 96, 24, false)]
    [InlineData(5, 1, 1, 33, 17, true)]
    [InlineData(2, 1, 13, 17, 40, true)]
    [InlineData(2, 12, 12, 144, 24, false)]
    public void InputChannelScalesMatchReferenceOnEveryWidth(int batch, int height, int width, int inputChannels, int outputChannels, bool hasResidual)
    {
        int pixels = batch * height * width, pixelsPerImage = height * width;
        var p = new PointwiseConvParams(pixels, inputChannels, outputChannels);
        var input = TestData.Uniform(81, pixels * inputChannels);
        var kernel = TestData.Uniform(82, inputChannels * outputChannels);
        var bias = TestData.Uniform(83, outputChannels);
        float[]? residual = hasResidual ? TestData.Uniform(84, pixels * outputChannels) : null;
        var scales = TestData.Uniform(85, batch * inputChannels);
        // The reference multiplies the input as Keras's Multiply layer does, before the convolution.
        var scaledInput = new float[input.Length];
        for (int i = 0; i < input.Length; i++)
            scaledInput[i] = input[i] * scales[i / inputChannels / pixelsPerImage * inputChannels + i % inputChannels];
        var expected = Reference(scaledInput, kernel, bias, residual, batch, height, width, inputChannels, outputChannels, ReferenceActivation.Swish);

        foreach (var simd in Widths)
        {
            using var packed = Pack(simd, kernel, bias, inputChannels, outputChannels);
            var output = new float[expected.Length];
            int a = pixels / 3, b = Math.Max(a, 2 * pixels / 3);
            foreach (var range in new[] { new RowRange(a, b), new RowRange(0, a), new RowRange(b, pixels) })
                Run(simd, ReferenceActivation.Swish, input, packed, residual, output, p, range, RowRange.All(packed.PanelCount), scales, pixelsPerImage);
            Precision.AssertClose(expected, output, scale: Math.Sqrt(inputChannels), what: simd.ToString());
        }
    }

    [Fact]
    public void RejectsInputScalesThatDoNotCoverTheImages()
    {
        var p = new PointwiseConvParams(8, 2, 4);
        using var packed = new PackedPointwiseWeights(new float[8], [], 2, 4);
        var identity = new IdentityActivation();
        // 8 pixels are not whole images of 3; 2 images of 4 pixels need 4 scales, not 3.
        Assert.Throws<ArgumentOutOfRangeException>(() => PointwiseConvKernels.Nhwc(new float[16], packed, [], new float[32], p, identity,
            RowRange.All(8), RowRange.All(1), new float[6], pixelsPerImage: 3));
        Assert.Throws<ArgumentException>(() => PointwiseConvKernels.Nhwc(new float[16], packed, [], new float[32], p, identity,
            RowRange.All(8), RowRange.All(1), new float[3], pixelsPerImage: 4));
    }

    [Theory]
    // A 7x7 map splits its 40 panels into groups as well as its 5 pixel blocks; 20x17 splits pixel blocks only.
    [InlineData(1, 7, 7, 33, 1280, true)]
    [InlineData(2, 20, 17, 24, 40, true)]
    [InlineData(2, 7, 7, 17, 16, false)]
    public void BackendOpMatchesReferenceOnTwoThreads(int batch, int height, int width, int inputChannels, int filters, bool hasResidual)
    {
        int pixels = batch * height * width;
        var input = TestData.Uniform(71, pixels * inputChannels);
        var kernel = TestData.Uniform(72, inputChannels * filters);
        var bias = TestData.Uniform(73, filters);
        float[]? residual = hasResidual ? TestData.Uniform(74, pixels * filters) : null;
        var expected = Reference(input, kernel, bias, residual, batch, height, width, inputChannels, filters, ReferenceActivation.Swish);

        using var backend = new CpuBackend(threadCount: 2);
        var shape = TensorShape.Nhwc(batch, height, width, filters);
        using var x = Tensor.FromArray(input, TensorShape.Nhwc(batch, height, width, inputChannels));
        using var r = residual is null ? null : Tensor.FromArray(residual, shape);
        using var y = new Tensor(shape);
        using var w = Tensor.FromArray(kernel, new TensorShape(1, 1, inputChannels, filters));
        using var b = Tensor.FromArray(bias, new TensorShape(filters));
        var op = new Conv2DOp(1, 1, 1, 1, 1, 1, Padding2D.None, filters, UseBias: true, ActivationFunction.Swish, AddsResidual: r is not null);
        IDeviceBuffer[] inputs = r is null ? [new HostBuffer(x)] : [new HostBuffer(x), new HostBuffer(r)];
        using var prepared = backend.Prepare(op, new OpBinding("pointwise", inputs, new HostBuffer(y), [w, b]));
        prepared.Run();
        Precision.AssertClose(expected, y.Span, scale: Math.Sqrt(inputChannels));
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void SteadyStateCallAllocatesNothing(SimdWidth simd)
    {
        var p = new PointwiseConvParams(49, 17, 40);
        using var packed = Pack(simd, new float[17 * 40], new float[40], 17, 40);
        var (input, residual, output) = (new float[49 * 17], new float[49 * 40], new float[49 * 40]);
        Run(simd, ReferenceActivation.Swish, input, packed, residual, output, p, RowRange.All(49), RowRange.All(packed.PanelCount));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(simd, ReferenceActivation.Swish, input, packed, residual, output, p, RowRange.All(49), RowRange.All(packed.PanelCount));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void EmptyRangesWriteNothing()
    {
        var p = new PointwiseConvParams(9, 2, 4);
        using var packed = new PackedPointwiseWeights(new float[8], [], 2, 4);
        var output = new float[36];
        Array.Fill(output, Untouched);
        PointwiseConvKernels.Nhwc(new float[18], packed, [], output, p, new IdentityActivation(), new RowRange(2, 2), RowRange.All(1));
        PointwiseConvKernels.Nhwc(new float[18], packed, [], output, p, new IdentityActivation(), RowRange.All(9), new RowRange(1, 1));
        Assert.All(output, v => Assert.Equal(Untouched, v));
    }

    [Fact]
    public void RejectsMismatchedArguments()
    {
        var p = new PointwiseConvParams(9, 2, 4);
        using var packed = new PackedPointwiseWeights(new float[8], [], 2, 4);
        var identity = new IdentityActivation();
        Assert.Throws<ArgumentException>(() => PointwiseConvKernels.Nhwc(new float[17], packed, [], new float[36], p, identity, RowRange.All(9), RowRange.All(1)));
        Assert.Throws<ArgumentException>(() => PointwiseConvKernels.Nhwc(new float[18], packed, new float[35], new float[36], p, identity, RowRange.All(9), RowRange.All(1)));
        Assert.Throws<ArgumentException>(() => PointwiseConvKernels.Nhwc(new float[18], packed, [], new float[36], p with { OutputChannels = 5 }, identity, RowRange.All(9), RowRange.All(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => PointwiseConvKernels.Nhwc(new float[18], packed, [], new float[36], p, identity, new RowRange(0, 10), RowRange.All(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => PointwiseConvKernels.Nhwc(new float[18], packed, [], new float[36], p, identity, RowRange.All(9), RowRange.All(2)));
        using var narrow = new PackedPointwiseWeights(new float[8], [], 2, 4, SimdWidth.Vector256);
        Assert.Throws<ArgumentException>(() => PointwiseConvKernels.Nhwc(new float[18], narrow, [], new float[36], p, identity, RowRange.All(9), RowRange.All(1),
                                                                         width: SimdWidth.Vector512));
        Assert.Throws<ArgumentException>(() => new PackedPointwiseWeights(new float[7], [], 2, 4));
    }

    [Fact]
    public void PacksPanelsZeroPadded()
    {
        // 2 × 3 kernel in 16-wide panels: row c of panel 0 holds kernel[c, 0..3) then zeros.
        using var packed = new PackedPointwiseWeights([1, 2, 3, 4, 5, 6], [7, 8, 9], 2, 3, SimdWidth.Vector256);
        Assert.Equal((1, 16), (packed.PanelCount, packed.PanelWidth));
        var p = new PointwiseConvParams(1, 2, 3);
        var output = new float[3];
        PointwiseConvKernels.Nhwc([1f, 10f], packed, [], output, p, new IdentityActivation(), RowRange.All(1), RowRange.All(1), width: SimdWidth.Vector256);
        Assert.Equal([7f + 1 + 40, 8f + 2 + 50, 9f + 3 + 60], output);
    }

    private static double[] Reference(float[] input, float[] kernel, float[]? bias, float[]? residual, int batch, int height, int width,
                                      int inputChannels, int outputChannels, ReferenceActivation activation)
    {
        var sums = ReferenceConvolution.Conv2D(input, kernel, bias, batch, height, width, inputChannels, height, width, outputChannels,
                                               1, 1, 1, 1, 1, 1, 0, 0, ReferenceActivation.Identity);
        for (int i = 0; i < sums.Length; i++)
            sums[i] = ReferenceConvolution.Activate(activation, sums[i] + (residual is null ? 0.0 : residual[i]));
        return sums;
    }

    private static PackedPointwiseWeights Pack(SimdWidth simd, float[] kernel, float[]? bias, int inputChannels, int outputChannels)
        => new(kernel, bias ?? [], inputChannels, outputChannels, simd);

    private static void Run(SimdWidth simd, ReferenceActivation activation, float[] input, PackedPointwiseWeights packed, float[]? residual,
                            float[] output, in PointwiseConvParams p, RowRange pixels, RowRange panels, float[]? scales = null, int pixelsPerImage = 0)
    {
        switch (activation)
        {
            case ReferenceActivation.Identity: Run(simd, new IdentityActivation(), input, packed, residual, output, p, pixels, panels, scales, pixelsPerImage); break;
            case ReferenceActivation.Relu: Run(simd, new ReluActivation(), input, packed, residual, output, p, pixels, panels, scales, pixelsPerImage); break;
            case ReferenceActivation.Relu6: Run(simd, new BoundedReluActivation(6f), input, packed, residual, output, p, pixels, panels, scales, pixelsPerImage); break;
            case ReferenceActivation.Swish: Run(simd, new SwishActivation(), input, packed, residual, output, p, pixels, panels, scales, pixelsPerImage); break;
            default: throw new ArgumentOutOfRangeException(nameof(activation));
        }
    }

    private static void Run<TActivation>(SimdWidth simd, TActivation activation, float[] input, PackedPointwiseWeights packed, float[]? residual,
                                         float[] output, in PointwiseConvParams p, RowRange pixels, RowRange panels, float[]? scales, int pixelsPerImage)
        where TActivation : struct, IActivation
    {
        ReadOnlySpan<float> r = residual ?? [];
        ReadOnlySpan<float> s = scales ?? [];
        PointwiseConvKernels.Nhwc(input, packed, r, output, p, activation, pixels, panels, s, pixelsPerImage, simd);
    }
}
