using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Ops;
using NativeCnn.Tensors;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>
/// Convolution shapes (1x1 to 7x7, strides, dilations, 'same', 'valid' and explicit pads, H ≠ W, odd channels) on every
/// path that takes them, against the float64 reference; and the implicit GEMM's patch gather.
/// </summary>
public class Conv2DKernelTests
{
    /// <summary>Sentinel written before a partial run: rows outside the range must still hold it afterwards.</summary>
    private const float Untouched = 12345.5f;

    /// <summary>The widths the depthwise kernel tests force (its per-width entries).</summary>
    public static readonly string[] Widths = SimdSupport.Names("Vector512", "Vector256", "Scalar", "Entry");

    // NxHxWxC input, filters, kernel, strides, dilations, padding ("valid", "same", or "top,bottom,left,right"), bias, activation
    public static TheoryData<string, int, string, string, string, string, bool, ReferenceActivation> Cases => new()
    {
        // 1x1 stride 1 unpadded: the pointwise (GEMM) path, with partial panels of every width.
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
    public void EveryPathThatTakesTheShapeMatchesTheReference(string shape, int filters, string kernelSize, string strides, string dilations,
                                                              string padding, bool hasBias, ReferenceActivation activation)
    {
        var (batch, height, width, channels) = (Dims(shape)[0], Dims(shape)[1], Dims(shape)[2], Dims(shape)[3]);
        var (kh, kw, sh, sw, dh, dw) = (Dims(kernelSize)[0], Dims(kernelSize)[1], Dims(strides)[0], Dims(strides)[1],
                                        Dims(dilations)[0], Dims(dilations)[1]);
        var (outH, padTop) = Window(height, kh, sh, dh, padding, vertical: true);
        var (outW, padLeft) = Window(width, kw, sw, dw, padding, vertical: false);
        int padBottom = (outH - 1) * sh + (kh - 1) * dh + 1 - height - padTop, padRight = (outW - 1) * sw + (kw - 1) * dw + 1 - width - padLeft;
        int seed = ((((height * 31 + width) * 31 + channels) * 31 + filters) * 31 + kh * 7 + kw) * 31 + sh * 5 + dh + padding.Length;
        var input = TestData.Uniform(seed, batch * height * width * channels);
        var kernel = TestData.Uniform(seed + 1, kh * kw * channels * filters);
        float[]? bias = hasBias ? TestData.Uniform(seed + 2, filters) : null;
        var expected = ReferenceConvolution.Conv2D(input, kernel, bias, batch, height, width, channels, outH, outW, filters,
                                                   kh, kw, sh, sw, dh, dw, padTop, padLeft, activation);
        var op = new Conv2DOp(kh, kw, sh, sw, dh, dw, new Padding2D(padTop, Math.Max(0, padBottom), padLeft, Math.Max(0, padRight)), filters,
                              UseBias: hasBias, activation switch
                              {
                                  ReferenceActivation.Relu => ActivationFunction.Relu,
                                  ReferenceActivation.Relu6 => ActivationFunction.Relu6,
                                  ReferenceActivation.Swish => ActivationFunction.Swish,
                                  _ => ActivationFunction.Linear,
                              });
        using var x = Tensor.FromArray(input, TensorShape.Nhwc(batch, height, width, channels));
        using var y = new Tensor(TensorShape.Nhwc(batch, outH, outW, filters));
        using var w = Tensor.FromArray(kernel, new TensorShape(kh, kw, channels, filters));
        using var b = bias is null ? null : Tensor.FromArray(bias, new TensorShape(filters));
        using var pool = new WorkerPool(threadCount: 2);
        var binding = new OpBinding("conv", [new HostBuffer(x)], new HostBuffer(y), b is null ? [w] : [w, b]);
        foreach (var path in PathsFor(op))
        {
            y.Span.Fill(Untouched);
            using var prepared = CpuConv2D.Create(op, binding, pool, path);
            prepared.Run();
            Precision.AssertClose(expected, y.Span, scale: Math.Sqrt(kh * kw * channels), what: path.ToString());
        }
    }

    /// <summary>The paths whose op accepts <paramref name="op"/>: the implicit GEMM takes every convolution.</summary>
    internal static IEnumerable<Conv2DPath> PathsFor(Conv2DOp op)
    {
        if (op.IsPointwise) yield return Conv2DPath.Pointwise;
        if (Conv2DPathSelector.IsWinogradShape(op)) yield return Conv2DPath.Winograd;
        if (op.DilationWidth == 1) yield return Conv2DPath.Windows;
        yield return Conv2DPath.ImplicitGemm;
    }

    [Fact]
    public void GatherPatchesRejectsTooShortSpans()
    {
        var p = new Conv2DParams(1, 3, 3, 2, 3, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1);
        Assert.Throws<ArgumentException>(() => Conv2DKernels.GatherPatches(new float[17], new float[9 * 18], p, RowRange.All(9)));
        Assert.Throws<ArgumentException>(() => Conv2DKernels.GatherPatches(new float[18], new float[9 * 18 - 1], p, RowRange.All(9)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Conv2DKernels.GatherPatches(new float[18], new float[10 * 18], p, new RowRange(0, 10)));
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
