using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

public class DepthwiseConv2DKernelTests
{
    private const float Untouched = 12345.5f;

    // NxHxWxC input, multiplier, kernel, strides, dilations, padding ("valid", "same", or "top,bottom,left,right"), bias, activation
    public static TheoryData<string, int, string, string, string, string, bool, ReferenceActivation> Cases => new()
    {
        { "2x7x9x1", 1, "3x3", "1x1", "1x1", "same", true, ReferenceActivation.Relu },
        { "1x9x7x17", 1, "3x3", "2x2", "1x1", "same", true, ReferenceActivation.Relu6 },
        { "2x11x9x33", 1, "5x5", "2x2", "1x1", "same", false, ReferenceActivation.Swish },
        { "1x8x10x40", 1, "3x3", "1x1", "2x2", "same", true, ReferenceActivation.Identity },
        { "1x13x11x64", 1, "3x3", "1x1", "1x1", "same", true, ReferenceActivation.Relu6 },
        { "1x12x9x7", 1, "5x3", "1x2", "1x1", "valid", true, ReferenceActivation.Relu },
        { "1x5x6x16", 1, "1x1", "1x1", "1x1", "valid", false, ReferenceActivation.Identity },
        // ZeroPadding2D-style explicit pads before a 'valid' stride-2 depthwise (MobileNetV2), and asymmetric the other way.
        { "1x9x9x7", 1, "3x3", "2x2", "1x1", "0,1,0,1", true, ReferenceActivation.Relu6 },
        { "2x10x11x24", 1, "3x3", "2x2", "1x1", "1,0,1,0", true, ReferenceActivation.Swish },
        // Wide rows: several interior tiles, with 16 + 1 and 7 channel tails.
        { "2x6x14x17", 1, "3x3", "1x1", "1x1", "same", true, ReferenceActivation.Relu },
        { "1x5x15x7", 1, "3x3", "1x2", "1x1", "valid", false, ReferenceActivation.Swish },
        { "1x5x19x25", 1, "5x5", "1x1", "2x2", "same", true, ReferenceActivation.Relu6 },
        // Kernel larger than the input.
        { "1x2x3x8", 1, "5x5", "1x1", "1x1", "same", true, ReferenceActivation.Identity },
        // Depth multipliers above 1.
        { "1x6x5x3", 2, "3x3", "1x1", "1x1", "valid", true, ReferenceActivation.Relu },
        { "2x7x8x5", 3, "5x5", "2x2", "1x1", "same", true, ReferenceActivation.Identity },
        { "1x12x10x17", 4, "3x3", "2x2", "2x2", "1,1,1,1", false, ReferenceActivation.Swish },
    };

    /// <summary>
    /// The unrolled 3- and 5-tap rows at stride 1 and 2: rows wide enough for 8-, 4- and 1-pixel tiles, channel counts
    /// below, at and between vector widths (masked tails), 'same' borders and ZeroPadding2D-style 'valid' windows.
    /// </summary>
    public static TheoryData<string, int, string, string, string, string, bool, ReferenceActivation> UnrolledCases()
    {
        var data = new TheoryData<string, int, string, string, string, string, bool, ReferenceActivation>();
        var activations = new[] { ReferenceActivation.Swish, ReferenceActivation.Relu6, ReferenceActivation.Identity };
        int i = 0;
        foreach (int k in new[] { 3, 5 })
        {
            foreach (int stride in new[] { 1, 2 })
            {
                foreach (int channels in new[] { 1, 7, 16, 17, 33, 96, 144, 240 })
                {
                    // Stride 1: 31 columns leave 29 or 27 interior pixels (8 + 8 + 8 + 4 + 1 or 8 + 8 + 8 + 3).
                    // Stride 2: 63 odd columns give 31 or 30 outputs; batch 2 with odd heights.
                    string shape = stride == 1 ? $"1x7x31x{channels}" : $"2x9x63x{channels}";
                    string size = $"{k}x{k}", strides = $"{stride}x{stride}";
                    data.Add(shape, 1, size, strides, "1x1", "same", true, activations[i++ % 3]);
                    data.Add(shape, 1, size, strides, "1x1", stride == 1 ? "valid" : "0,1,0,1", i % 2 == 0, activations[i++ % 3]);
                }
            }
        }
        // Unrolled columns with a stride or dilation the unrolled rows do not cover fall back to the tap loop.
        data.Add("1x6x40x19", 1, "3x3", "2x1", "1x1", "same", true, ReferenceActivation.Relu);
        data.Add("1x6x40x19", 1, "5x5", "1x3", "1x1", "same", true, ReferenceActivation.Relu);
        data.Add("1x9x40x19", 1, "3x3", "1x1", "1x2", "same", true, ReferenceActivation.Swish);
        data.Add("1x5x40x24", 1, "7x7", "1x1", "1x1", "same", false, ReferenceActivation.Identity);
        return data;
    }

    /// <summary>
    /// Small maps (EfficientNet's and MobileNetV2's last stages): rows of 7 to 19 pixels whose clipped border tiles,
    /// 1..7-pixel remainder tiles and two-vector tiles make up most of the row; channel counts below a vector (masked),
    /// just above one, with a pair and an overlapped tail (40), and a wide layer (816).
    /// </summary>
    public static TheoryData<string, int, string, string, string, string, bool, ReferenceActivation> SmallMapCases()
    {
        var data = new TheoryData<string, int, string, string, string, string, bool, ReferenceActivation>();
        var activations = new[] { ReferenceActivation.Swish, ReferenceActivation.Identity, ReferenceActivation.Relu6 };
        int i = 0;
        foreach (int width in new[] { 7, 10, 14, 19 })
        {
            foreach (int k in new[] { 3, 5 })
            {
                foreach (int stride in new[] { 1, 2 })
                {
                    foreach (int channels in new[] { 7, 17, 40, 816 })
                    {
                        // H != W; stride 2 on even widths pads 'same' on the right only.
                        data.Add($"1x{(width + 1) / 2 + 2}x{width}x{channels}", 1, $"{k}x{k}", $"{stride}x{stride}", "1x1", "same",
                                 i % 4 != 3, activations[i++ % 3]);
                    }
                }
            }
        }
        // ZeroPadding2D-style 'valid' windows and one-sided pads, where only one border clips.
        data.Add("1x6x10x40", 1, "5x5", "1x1", "1x1", "0,0,4,0", true, ReferenceActivation.Swish);
        data.Add("1x6x19x40", 1, "5x5", "2x2", "1x1", "1,2,1,2", true, ReferenceActivation.Relu);
        data.Add("1x6x14x33", 1, "3x3", "1x1", "1x1", "1,1,0,2", false, ReferenceActivation.Identity);
        // Stride 2 with borders of 2 pixels or more: clipped multi-pixel tiles whose pixels are two columns apart.
        data.Add("1x7x19x40", 1, "5x5", "2x2", "1x1", "2,2,4,4", true, ReferenceActivation.Swish);
        data.Add("1x9x14x40", 1, "7x7", "2x2", "1x1", "same", true, ReferenceActivation.Identity);
        data.Add("1x9x15x17", 1, "7x7", "2x2", "1x1", "3,3,6,6", false, ReferenceActivation.Relu);
        return data;
    }

    [Theory]
    [MemberData(nameof(SmallMapCases))]
    public void SmallMapsMatchReferenceOnEveryWidth(string shape, int multiplier, string kernelSize, string strides, string dilations,
                                                    string padding, bool hasBias, ReferenceActivation activation)
        => MatchesReferenceOnEveryWidth(shape, multiplier, kernelSize, strides, dilations, padding, hasBias, activation);

    [Theory]
    [MemberData(nameof(UnrolledCases))]
    public void UnrolledRowsMatchReferenceOnEveryWidth(string shape, int multiplier, string kernelSize, string strides, string dilations,
                                                       string padding, bool hasBias, ReferenceActivation activation)
        => MatchesReferenceOnEveryWidth(shape, multiplier, kernelSize, strides, dilations, padding, hasBias, activation);

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReferenceOnEveryWidth(string shape, int multiplier, string kernelSize, string strides, string dilations,
                                             string padding, bool hasBias, ReferenceActivation activation)
    {
        var (batch, height, width, channels) = (Conv2DKernelTests.Dims(shape)[0], Conv2DKernelTests.Dims(shape)[1], Conv2DKernelTests.Dims(shape)[2], Conv2DKernelTests.Dims(shape)[3]);
        var (kh, kw, sh, sw, dh, dw) = (Conv2DKernelTests.Dims(kernelSize)[0], Conv2DKernelTests.Dims(kernelSize)[1], Conv2DKernelTests.Dims(strides)[0], Conv2DKernelTests.Dims(strides)[1],
                                        Conv2DKernelTests.Dims(dilations)[0], Conv2DKernelTests.Dims(dilations)[1]);
        var (outH, padTop) = Conv2DKernelTests.Window(height, kh, sh, dh, padding, vertical: true);
        var (outW, padLeft) = Conv2DKernelTests.Window(width, kw, sw, dw, padding, vertical: false);
        var p = new DepthwiseConv2DParams(batch, height, width, channels, outH, outW, multiplier, kh, kw, sh, sw, dh, dw, padTop, padLeft);
        int seed = ((((height * 31 + width) * 31 + channels) * 31 + multiplier) * 31 + kh * 7 + kw) * 31 + sh * 5 + dh + padding.Length;
        var input = TestData.Uniform(seed, batch * height * width * channels);
        var kernel = TestData.Uniform(seed + 1, kh * kw * channels * multiplier);
        float[]? bias = hasBias ? TestData.Uniform(seed + 2, channels * multiplier) : null;
        var expected = ReferenceConvolution.DepthwiseConv2D(input, kernel, bias, batch, height, width, channels, outH, outW, multiplier,
                                                            kh, kw, sh, sw, dh, dw, padTop, padLeft, activation);
        double scale = Math.Sqrt(kh * kw);
        int rowLength = outW * p.OutputChannels;

        foreach (var simd in SimdSupport.AllWidthsAndAuto)
        {
            var output = new float[expected.Length];
            Array.Fill(output, Untouched);
            int a = p.RowCount / 3, b = Math.Max(a, 2 * p.RowCount / 3);
            Run(simd, activation, input, kernel, bias, output, p, new RowRange(a, b));
            for (int i = 0; i < output.Length; i++)
            {
                int row = i / rowLength;
                if (row < a || row >= b) Assert.True(output[i] == Untouched, $"{simd}: element {i} in row {row} outside [{a}, {b}) was written");
            }
            Run(simd, activation, input, kernel, bias, output, p, new RowRange(0, a));
            Run(simd, activation, input, kernel, bias, output, p, new RowRange(b, p.RowCount));
            Precision.AssertClose(expected, output, scale: scale, what: simd.ToString());
        }
    }

    public static TheoryData<SimdWidth, int, int> SteadyStateCases()
    {
        var data = new TheoryData<SimdWidth, int, int>();
        foreach (var simd in SimdSupport.AllWidthsAndAuto)
            foreach (var (k, stride) in new[] { (3, 1), (3, 2), (5, 1), (5, 2) })
                data.Add(simd, k, stride);
        return data;
    }

    [Theory]
    [MemberData(nameof(SteadyStateCases))]
    public void SteadyStateCallAllocatesNothing(SimdWidth simd, int k, int stride)
    {
        int outW = 29, inW = (outW - 1) * stride + 1;
        var p = new DepthwiseConv2DParams(1, 9, inW, 17, (9 - 1) / stride + 1, outW, 1, k, k, stride, stride, 1, 1, k / 2, k / 2);
        var (input, kernel, bias, output) = (new float[9 * inW * 17], new float[k * k * 17], new float[17], new float[p.RowCount * outW * 17]);
        Run(simd, ReferenceActivation.Relu6, input, kernel, bias, output, p, RowRange.All(p.RowCount));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(simd, ReferenceActivation.Relu6, input, kernel, bias, output, p, RowRange.All(p.RowCount));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void RejectsTooShortSpans()
    {
        var p = new DepthwiseConv2DParams(1, 3, 3, 2, 3, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1);
        Assert.Throws<ArgumentException>(() =>
            DepthwiseConv2DKernels.Nhwc(new float[18], new float[35], [], new float[36], p, new IdentityActivation(), RowRange.All(3)));
        Assert.Throws<ArgumentException>(() =>
            DepthwiseConv2DKernels.Nhwc(new float[18], new float[36], [], new float[35], p, new IdentityActivation(), RowRange.All(3)));
    }

    private static void Run(SimdWidth simd, ReferenceActivation activation, float[] input, float[] kernel, float[]? bias, float[] output,
                            in DepthwiseConv2DParams p, RowRange rows)
    {
        switch (activation)
        {
            case ReferenceActivation.Identity: Run(simd, new IdentityActivation(), input, kernel, bias, output, p, rows); break;
            case ReferenceActivation.Relu: Run(simd, new ReluActivation(), input, kernel, bias, output, p, rows); break;
            case ReferenceActivation.Relu6: Run(simd, new BoundedReluActivation(6f), input, kernel, bias, output, p, rows); break;
            case ReferenceActivation.Swish: Run(simd, new SwishActivation(), input, kernel, bias, output, p, rows); break;
            default: throw new ArgumentOutOfRangeException(nameof(activation));
        }
    }

    private static void Run<TActivation>(SimdWidth simd, TActivation activation, float[] input, float[] kernel, float[]? bias, float[] output,
                                         in DepthwiseConv2DParams p, RowRange rows)
        where TActivation : struct, IActivation
    {
        ReadOnlySpan<float> b = bias ?? [];
        DepthwiseConv2DKernels.Nhwc(input, kernel, b, output, p, activation, rows, simd);
    }
}
