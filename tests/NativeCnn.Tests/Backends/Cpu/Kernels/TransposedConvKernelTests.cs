using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>
/// The transposed convolution against a float64 scatter written from the definition (each input pixel adds
/// <c>W · x</c> into the output window at <c>stride · position − pad</c>), at every SIMD width; the Keras output sizes and
/// TensorFlow pads; and the adjoint identity <c>⟨conv(x), y⟩ = ⟨x, conv_transpose(y)⟩</c> against the convolution.
/// </summary>
public sealed class TransposedConvKernelTests
{
    // NxHxWxC input, filters, kernel, strides, pad top, pad left, output HxW
    public static TheoryData<string, int, string, string, int, int, string> Cases => new()
    {
        { "2x5x7x3", 17, "3x3", "2x2", 0, 0, "10x14" },   // 'same', stride 2, odd kernel: pad (3 − 2) / 2 = 0
        { "1x4x6x8", 33, "4x4", "2x2", 1, 1, "8x12" },    // 'same', even kernel: pad 1
        { "1x6x5x5", 1, "3x3", "1x1", 1, 1, "6x5" },      // 'same', stride 1 (a plain convolution's shape)
        { "2x5x7x3", 5, "2x2", "3x3", 0, 0, "15x21" },    // 'valid', kernel narrower than its stride: gaps
        { "1x5x4x7", 16, "3x2", "2x3", 0, 0, "11x12" },   // 'valid', 5·2 + 1 rows, 4·3 + 0 columns
        { "1x5x4x2", 9, "3x3", "2x2", 1, 1, "10x8" },     // 'same' with output_padding 1: (5−1)·2 + 3 − 2 + 1
    };

    public static TheoryData<SimdWidth> Widths => SimdSupport.AllWidths;

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTheFloat64ScatterAtEveryWidth(string input, int filters, string kernel, string strides, int padTop, int padLeft, string output)
    {
        int[] i = Dims(input), k = Dims(kernel), s = Dims(strides), o = Dims(output);
        var p = new TransposedConvParams(i[0], i[1], i[2], i[3], o[0], o[1], filters, k[0], k[1], s[0], s[1], padTop, padLeft);
        var random = new Random(filters * 31 + i[3]);
        var x = Values(random, i[0] * i[1] * i[2] * i[3]);
        var w = Values(random, k[0] * k[1] * filters * i[3]);
        var bias = Values(random, filters);
        var expected = Scatter(x, w, bias, p);
        var packed = new float[w.Length];
        TransposedConvKernels.PackWeights(w, packed, k[0], k[1], filters, i[3]);
        foreach (var width in SimdSupport.AllWidthsAndAuto)
        {
            if (!SimdDispatch.IsAccelerated(width) && width is SimdWidth.Vector512) continue;
            var actual = new float[expected.Length];
            // Two row ranges, as two threads would split them.
            int half = p.RowCount / 2;
            TransposedConvKernels.Rows(x, packed, bias, actual, in p, new RowRange(0, half), width);
            TransposedConvKernels.Rows(x, packed, bias, actual, in p, new RowRange(half, p.RowCount), width);
            Precision.AssertClose(expected, actual, 1e-5, 1.0, $"{width}");
        }
    }

    [Theory]
    [InlineData(5, 3, 2, "same", null, 10)]
    [InlineData(5, 3, 2, "valid", null, 11)]
    [InlineData(5, 2, 3, "valid", null, 15)]
    [InlineData(5, 4, 2, "same", null, 10)]
    [InlineData(5, 3, 2, "same", 1, 10)]
    [InlineData(5, 3, 2, "same", 0, 9)]
    [InlineData(5, 3, 2, "valid", 1, 12)]
    [InlineData(1, 1, 1, "valid", null, 1)]
    public void OutputSizesAreKerasDeconvOutputLength(int input, int kernel, int stride, string padding, int? outputPadding, int expected)
    {
        var x = Node.Input(input, input + 1, 2);
        var mode = padding == "same" ? Padding.Same : Padding.Valid;
        (int, int)? op = outputPadding is { } v ? (v, v) : null;
        var y = new Conv2DTranspose("t", 3, (kernel, kernel), (stride, stride), mode, op).Call(x);
        Assert.Equal(expected, y.OutputShape.Height);
        using var model = new Model("m", x, y);
        Assert.Equal(kernel * kernel * 3 * 2 + 3, model.ParameterCount);
    }

    [Fact]
    public void OutputPaddingMustBeLessThanTheStride()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2DTranspose("t", 3, (3, 3), (2, 2), Padding.Same, (2, 0)));
        Assert.Contains("output_padding", e.Message);
    }

    /// <summary>
    /// A transposed convolution is the adjoint of the convolution with the same kernel (Keras's <c>(kh, kw, filters, in)</c>
    /// of the transpose is the convolution's HWIO <c>(kh, kw, in, filters)</c> with the roles swapped): for a 'same' stride-2
    /// convolution from C to F channels and its transpose from F back to C, ⟨conv(x), y⟩ = ⟨x, conv_transpose(y)⟩.
    /// </summary>
    [Theory]
    [InlineData(9, 7, 3, 3, 2, "same")]
    [InlineData(8, 8, 4, 4, 2, "same")]
    [InlineData(11, 9, 3, 2, 3, "valid")]
    [InlineData(10, 7, 4, 5, 3, "same")]
    public void IsTheAdjointOfTheConvolution(int height, int width, int kernel, int channelsIn, int stride, string padding)
    {
        const int filters = 6;
        var mode = padding == "same" ? Padding.Same : Padding.Valid;
        var random = new Random(height * 7 + kernel);
        var xIn = Node.Input(height, width, channelsIn);
        var conv = new Conv2D("conv", filters, (kernel, kernel), (stride, stride), mode, useBias: false);
        using var forward = new Model("forward", xIn, conv.Call(xIn));
        var convOut = forward.Output.OutputShape;
        var yIn = Node.Input(convOut.Height, convOut.Width, filters);
        // The output_padding that gives back the convolution's input size exactly (Keras: (in − 1)·s + k − 2·pad + output_padding).
        int pad = mode == Padding.Same ? kernel / 2 : 0;
        // Where Keras's default size is already the input's (8 = 4·2 for an even kernel), no output_padding.
        (int, int)? outputPadding = mode == Padding.Same && convOut.Height * stride == height && convOut.Width * stride == width ? null
            : (height - ((convOut.Height - 1) * stride + kernel - 2 * pad), width - ((convOut.Width - 1) * stride + kernel - 2 * pad));
        var transpose = new Conv2DTranspose("transpose", channelsIn, (kernel, kernel), (stride, stride), mode, outputPadding, useBias: false);
        var transposed = transpose.Call(yIn);
        Assert.Equal(TensorShape.Nhwc(1, height, width, channelsIn), transposed.OutputShape);
        using var backward = new Model("backward", yIn, transposed);
        var kernelValues = Values(random, kernel * kernel * channelsIn * filters);
        kernelValues.CopyTo(conv.Weights[0].Value.Span);
        kernelValues.CopyTo(transpose.Weights[0].Value.Span);

        var x = Values(random, height * width * channelsIn);
        var y = Values(random, convOut.Height * convOut.Width * filters);
        using var backend = new CpuBackend();
        var cx = Run(forward, backend, x);
        var ty = Run(backward, backend, y);
        double left = 0, right = 0;
        for (int i = 0; i < y.Length; i++) left += (double)cx[i] * y[i];
        for (int i = 0; i < x.Length; i++) right += (double)x[i] * ty[i];
        Assert.True(Math.Abs(left - right) <= 1e-4 * Math.Max(1, Math.Abs(left)), $"<conv(x), y> = {left}, <x, conv_transpose(y)> = {right}");
    }

    private static float[] Run(Model model, CpuBackend backend, float[] input)
    {
        using var plan = model.CreatePlan(backend, 1);
        plan.Input.CopyFrom(input);
        plan.Run();
        var output = new float[plan.Output.Shape.ElementCount];
        plan.Output.CopyTo(output);
        return output;
    }

    /// <summary>The definition, in float64: every input pixel and tap adds into the output position it reaches.</summary>
    private static double[] Scatter(float[] x, float[] w, float[] bias, TransposedConvParams p)
    {
        var output = new double[p.Batch * p.OutputHeight * p.OutputWidth * p.Filters];
        for (int n = 0; n < p.Batch; n++)
        for (int oy = 0; oy < p.OutputHeight; oy++)
        for (int ox = 0; ox < p.OutputWidth; ox++)
        for (int f = 0; f < p.Filters; f++)
            output[((n * p.OutputHeight + oy) * p.OutputWidth + ox) * p.Filters + f] = bias[f];
        for (int n = 0; n < p.Batch; n++)
        for (int iy = 0; iy < p.InputHeight; iy++)
        for (int ix = 0; ix < p.InputWidth; ix++)
        for (int ky = 0; ky < p.KernelHeight; ky++)
        for (int kx = 0; kx < p.KernelWidth; kx++)
        {
            int oy = iy * p.StrideHeight + ky - p.PadTop, ox = ix * p.StrideWidth + kx - p.PadLeft;
            if (oy < 0 || oy >= p.OutputHeight || ox < 0 || ox >= p.OutputWidth) continue;
            for (int f = 0; f < p.Filters; f++)
            for (int c = 0; c < p.InputChannels; c++)
                output[((n * p.OutputHeight + oy) * p.OutputWidth + ox) * p.Filters + f] +=
                    (double)x[((n * p.InputHeight + iy) * p.InputWidth + ix) * p.InputChannels + c]
                    * w[((ky * p.KernelWidth + kx) * p.Filters + f) * p.InputChannels + c];
        }
        return output;
    }

    private static int[] Dims(string text) => [.. text.Split('x').Select(int.Parse)];

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = random.NextSingle() * 2 - 1;
        return values;
    }
}
