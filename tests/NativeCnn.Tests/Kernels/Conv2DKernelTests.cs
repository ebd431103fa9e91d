using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Kernels;

public class Conv2DKernelTests
{
    /// <summary>Sentinel written before a partial run: rows outside the range must still hold it afterwards.</summary>
    private const float Untouched = 12345.5f;

    public static readonly string[] Widths = SimdSupport.Names("Vector512", "Vector256", "Scalar", "Entry");

    // NxHxWxC input, filters, kernel, strides, dilations, padding ("valid", "same", or "top,bottom,left,right"), bias, activation
    public static TheoryData<string, int, string, string, string, string, bool, ReferenceActivation> Cases => new()
    {
        // 1x1 stride 1 unpadded: the pointwise (GEMM) path, with 32-, 16-, 8-lane and scalar filter tails.
        { "1x5x7x1", 1, "1x1", "1x1", "1x1", "valid", false, ReferenceActivation.Identity },
        { "2x6x5x3", 5, "1x1", "1x1", "1x1", "valid", true, ReferenceActivation.Relu },
        { "2x7x9x33", 40, "1x1", "1x1", "1x1", "valid", true, ReferenceActivation.Swish },
        { "1x3x5x17", 57, "1x1", "1x1", "1x1", "valid", true, ReferenceActivation.Relu6 },
        // 1x1 that is not pointwise: strided, and padded.
        { "1x9x11x17", 17, "1x1", "2x2", "1x1", "valid", true, ReferenceActivation.Identity },
        { "1x4x5x7", 16, "1x1", "1x1", "1x1", "1,0,0,1", true, ReferenceActivation.Identity },
        // 3x3 and 5x5, 'same' (TF: odd pad after), stride 1 and 2 with odd inputs, H ≠ W.
        { "2x7x9x3", 16, "3x3", "1x1", "1x1", "same", true, ReferenceActivation.Relu },
        { "1x9x7x7", 17, "3x3", "2x2", "1x1", "same", false, ReferenceActivation.Relu6 },
        { "2x11x9x17", 40, "3x3", "2x2", "1x1", "same", true, ReferenceActivation.Swish },
        { "1x8x10x33", 5, "3x3", "1x1", "1x1", "valid", true, ReferenceActivation.Identity },
        { "1x16x13x3", 64, "3x3", "1x1", "1x1", "same", true, ReferenceActivation.Relu },
        { "1x13x11x3", 33, "5x5", "1x1", "1x1", "same", true, ReferenceActivation.Relu },
        { "2x9x12x7", 16, "5x5", "2x2", "1x1", "same", false, ReferenceActivation.Identity },
        // Dilation 2.
        { "1x12x10x7", 17, "3x3", "1x1", "2x2", "same", true, ReferenceActivation.Relu6 },
        { "1x11x13x3", 40, "3x3", "1x1", "2x2", "valid", true, ReferenceActivation.Identity },
        { "1x9x8x5", 9, "3x3", "2x1", "1x2", "same", true, ReferenceActivation.Swish },
        // Explicit (ZeroPadding2D-style) asymmetric pads and a ResNet-like 7x7 stem.
        { "1x9x9x5", 16, "3x3", "2x2", "1x1", "0,1,0,1", true, ReferenceActivation.Relu },
        { "1x10x9x3", 24, "3x3", "2x2", "1x1", "1,0,1,0", false, ReferenceActivation.Identity },
        { "2x10x8x3", 17, "7x7", "2x2", "1x1", "3,3,3,3", true, ReferenceActivation.Relu },
        // Single channels, rectangular kernels and strides, a kernel larger than the input (no interior pixel).
        { "1x6x20x1", 1, "3x3", "1x1", "1x1", "same", false, ReferenceActivation.Identity },
        { "1x5x5x33", 33, "1x3", "1x2", "1x1", "0,0,1,1", true, ReferenceActivation.Relu },
        { "1x2x3x4", 16, "5x5", "1x1", "1x1", "same", true, ReferenceActivation.Swish },
        { "1x8x9x17", 40, "2x2", "2x2", "1x1", "valid", true, ReferenceActivation.Identity },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesReferenceOnEveryWidth(string shape, int filters, string kernelSize, string strides, string dilations,
                                             string padding, bool hasBias, ReferenceActivation activation)
    {
        var (batch, height, width, channels) = (Dims(shape)[0], Dims(shape)[1], Dims(shape)[2], Dims(shape)[3]);
        var (kh, kw, sh, sw, dh, dw) = (Dims(kernelSize)[0], Dims(kernelSize)[1], Dims(strides)[0], Dims(strides)[1],
                                        Dims(dilations)[0], Dims(dilations)[1]);
        var (outH, padTop) = Window(height, kh, sh, dh, padding, vertical: true);
        var (outW, padLeft) = Window(width, kw, sw, dw, padding, vertical: false);
        var p = new Conv2DParams(batch, height, width, channels, outH, outW, filters, kh, kw, sh, sw, dh, dw, padTop, padLeft);
        int seed = ((((height * 31 + width) * 31 + channels) * 31 + filters) * 31 + kh * 7 + kw) * 31 + sh * 5 + dh + padding.Length;
        var input = TestData.Uniform(seed, batch * height * width * channels);
        var kernel = TestData.Uniform(seed + 1, kh * kw * channels * filters);
        float[]? bias = hasBias ? TestData.Uniform(seed + 2, filters) : null;
        var expected = ReferenceConvolution.Conv2D(input, kernel, bias, batch, height, width, channels, outH, outW, filters,
                                                   kh, kw, sh, sw, dh, dw, padTop, padLeft, activation);
        double scale = Math.Sqrt(kh * kw * channels);
        int rowLength = outW * filters;

        foreach (var simd in Widths)
        {
            var output = new float[expected.Length];
            Array.Fill(output, Untouched);
            // A middle sub-range first: nothing outside it may change; then the rest, and the whole must match.
            int a = p.RowCount / 3, b = Math.Max(a, 2 * p.RowCount / 3);
            Run(simd, activation, input, kernel, bias, output, p, new RowRange(a, b));
            for (int i = 0; i < output.Length; i++)
            {
                int row = i / rowLength;
                if (row < a || row >= b) Assert.True(output[i] == Untouched, $"{simd}: element {i} in row {row} outside [{a}, {b}) was written");
            }
            Run(simd, activation, input, kernel, bias, output, p, new RowRange(0, a));
            Run(simd, activation, input, kernel, bias, output, p, new RowRange(b, p.RowCount));
            Precision.AssertClose(expected, output, scale: scale, what: simd);
        }
    }

    public static TheoryData<string> ForcedWidths() => [.. SimdSupport.Names("Vector512", "Vector256", "Scalar")];

    [Theory]
    [MemberData(nameof(ForcedWidths))]
    public void SteadyStateCallAllocatesNothing(string simd)
    {
        var p = new Conv2DParams(1, 9, 10, 17, 5, 5, 40, 3, 3, 2, 2, 1, 1, 1, 1);
        var (input, kernel, bias, output) = (new float[9 * 10 * 17], new float[9 * 17 * 40], new float[40], new float[5 * 5 * 40]);
        Run(simd, ReferenceActivation.Swish, input, kernel, bias, output, p, RowRange.All(p.RowCount));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(simd, ReferenceActivation.Swish, input, kernel, bias, output, p, RowRange.All(p.RowCount));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void EmptyRowRangeWritesNothing()
    {
        var p = new Conv2DParams(1, 3, 3, 2, 3, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1);
        var output = new float[36];
        Array.Fill(output, Untouched);
        Conv2DKernels.Nhwc(new float[18], new float[72], [], output, p, new IdentityActivation(), new RowRange(2, 2));
        Assert.All(output, v => Assert.Equal(Untouched, v));
    }

    [Fact]
    public void RejectsTooShortSpans()
    {
        var p = new Conv2DParams(1, 3, 3, 2, 3, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1);
        Assert.Throws<ArgumentException>(() =>
            Conv2DKernels.Nhwc(new float[17], new float[72], [], new float[36], p, new IdentityActivation(), RowRange.All(3)));
        Assert.Throws<ArgumentException>(() =>
            Conv2DKernels.Nhwc(new float[18], new float[72], new float[3], new float[36], p, new IdentityActivation(), RowRange.All(3)));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Conv2DKernels.Nhwc(new float[18], new float[72], [], new float[36], p, new IdentityActivation(), new RowRange(0, 4)));
    }

    internal static int[] Dims(string text) => text.Split('x').Select(int.Parse).ToArray();

    /// <summary>Output size and leading pad of one dimension for "valid", "same" or explicit "top,bottom,left,right".</summary>
    internal static (int Output, int PadBefore) Window(int input, int kernel, int stride, int dilation, string padding, bool vertical)
    {
        if (padding == "valid") return (ReferenceConvolution.OutputSize(input, kernel, stride, dilation, 0, 0), 0);
        if (padding == "same")
        {
            var (output, before, _) = ReferenceConvolution.Same(input, kernel, stride, dilation);
            return (output, before);
        }
        var pads = padding.Split(',').Select(int.Parse).ToArray();
        int first = vertical ? pads[0] : pads[2], second = vertical ? pads[1] : pads[3];
        return (ReferenceConvolution.OutputSize(input, kernel, stride, dilation, first, second), first);
    }

    private static void Run(string simd, ReferenceActivation activation, float[] input, float[] kernel, float[]? bias, float[] output,
                            in Conv2DParams p, RowRange rows)
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

    private static void Run<TActivation>(string simd, TActivation activation, float[] input, float[] kernel, float[]? bias, float[] output,
                                         in Conv2DParams p, RowRange rows)
        where TActivation : struct, IActivation
    {
        ReadOnlySpan<float> b = bias ?? [];
        switch (simd)
        {
            case "Vector512": Conv2DKernels.NhwcVector512(input, kernel, b, output, p, activation, rows); break;
            case "Vector256": Conv2DKernels.NhwcVector256(input, kernel, b, output, p, activation, rows); break;
            case "Scalar": Conv2DKernels.NhwcScalar(input, kernel, b, output, p, activation, rows); break;
            default: Conv2DKernels.Nhwc(input, kernel, b, output, p, activation, rows); break;
        }
    }

    [Theory]
    // batch, h, w, c, kernel, stride, dilation, pad top, pad left, out h, out w, first pixel, pixel count
    [InlineData(2, 5, 6, 3, 3, 1, 1, 1, 1, 5, 6, 0, 60)]       // every pixel of both images, 'same'
    [InlineData(2, 5, 6, 9, 3, 1, 1, 1, 1, 5, 6, 25, 11)]      // a range across the image boundary
    [InlineData(1, 9, 8, 5, 3, 2, 1, 0, 0, 4, 4, 3, 9)]        // stride 2, 'same' padding after only
    [InlineData(1, 7, 9, 4, 3, 1, 2, 2, 2, 7, 9, 5, 40)]       // dilation 2
    [InlineData(1, 3, 4, 6, 5, 1, 1, 3, 1, 2, 2, 0, 4)]        // windows larger than the input, pads beyond a whole window
    public void GatherPatchesMatchesTheWindows(int batch, int height, int width, int channels, int kernelSize, int stride, int dilation,
                                               int padTop, int padLeft, int outHeight, int outWidth, int first, int count)
    {
        var p = new Conv2DParams(batch, height, width, channels, outHeight, outWidth, 1, kernelSize, kernelSize, stride, stride,
                                 dilation, dilation, padTop, padLeft);
        var input = TestData.Uniform(95, batch * height * width * channels);
        int depth = kernelSize * kernelSize * channels;
        var patches = new float[count * depth + 1];
        patches.AsSpan().Fill(Untouched);
        Conv2DKernels.GatherPatches(input, patches, p, new RowRange(first, first + count));
        for (int m = first; m < first + count; m++)
        {
            int n = m / (outHeight * outWidth), oy = m / outWidth % outHeight, ox = m % outWidth;
            for (int ky = 0; ky < kernelSize; ky++)
            for (int kx = 0; kx < kernelSize; kx++)
            for (int c = 0; c < channels; c++)
            {
                int iy = oy * stride + ky * dilation - padTop, ix = ox * stride + kx * dilation - padLeft;
                float expected = iy < 0 || iy >= height || ix < 0 || ix >= width ? 0f : input[((n * height + iy) * width + ix) * channels + c];
                Assert.Equal(expected, patches[(m - first) * depth + (ky * kernelSize + kx) * channels + c]);
            }
        }
        Assert.Equal(Untouched, patches[^1]);
    }
}
