using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Layers;

/// <summary>
/// Adversarial window and padding arguments (dilations, kernels, strides and pads near 2^30 and int.MaxValue, sums that
/// overflow 32 bits, paddings far beyond memory): each is computed correctly in bounded time and memory, or refused at
/// build with an exception naming the layer and the numbers; nothing is allocated for a refused size.
/// </summary>
public sealed class WindowArithmeticTests
{
    [Theory]
    [InlineData(1 << 30)]
    [InlineData(int.MaxValue)]
    [InlineData(1 << 20)]
    [InlineData(8)]   // the smallest dilation the rule refuses on an 8-pixel axis
    public void SameWindowDilatedPastItsInputIsRefusedWithTheNumbers(int dilation)
    {
        var input = Node.Input(8, 8, 4);
        var depthwise = Assert.Throws<LayerException>(() =>
            new DepthwiseConv2D("block_dwconv", (3, 3), padding: Padding.Same, dilationRate: (dilation, dilation)).Call(input));
        Assert.Equal("block_dwconv", depthwise.LayerName);
        Assert.Contains($"dilation {dilation}", depthwise.Message);
        Assert.Contains("input height 8", depthwise.Message);
        Assert.Contains("'same' padding", depthwise.Message);

        var conv = Assert.Throws<LayerException>(() =>
            new Conv2D("conv", 2, (1, 3), padding: Padding.Same, dilationRate: (1, dilation)).Call(input));
        Assert.Equal("conv", conv.LayerName);
        Assert.Contains("along the width", conv.Message);
    }

    [Fact]
    public void DilationJustBelowTheInputStillRuns()
    {
        // Dilation 7 on 8 pixels: the outer taps of border windows reach the input, so the window is meaningful.
        var input = Node.Input(8, 8, 3);
        var output = new DepthwiseConv2D("dw", (3, 3), padding: Padding.Same, depthMultiplier: 2, dilationRate: (7, 7)).Call(input);
        Assert.Equal(TensorShape.Nhwc(1, 8, 8, 6), output.OutputShape);
    }

    [Fact]
    public void UndilatedSameWindowsLargerThanTheInputKeepWorking()
    {
        // MobileNetV2 at 32 px: a 3x3 depthwise on a 1x1 map; a 7x7 pool on a 2x3 map.
        var input = Node.Input(1, 1, 8);
        Assert.Equal(TensorShape.Nhwc(1, 1, 1, 8), new DepthwiseConv2D("dw", 3, padding: Padding.Same).Call(input).OutputShape);
        Assert.Equal(TensorShape.Nhwc(1, 1, 1, 8), new MaxPooling2D("pool", 7, 1, Padding.Same).Call(Node.Input(1, 1, 8)).OutputShape);
        Assert.Equal(TensorShape.Nhwc(1, 2, 3, 8), new AveragePooling2D("avg", 7, 1, Padding.Same).Call(Node.Input(2, 3, 8)).OutputShape);
    }

    [Fact]
    public void ValidWindowWithAHugeDilationIsRefusedWithItsExtentIn64Bits()
    {
        var e = Assert.Throws<LayerException>(() =>
            new Conv2D("conv", 2, 3, padding: Padding.Valid).Call(Node.Input(2, 2, 1)));
        Assert.Contains("(3 - 1) * dilation 1 + 1 = 3 > 2", e.Message);
        var huge = Assert.Throws<LayerException>(() =>
            new DepthwiseConv2D("dw", (3, 3), dilationRate: (int.MaxValue, 1)).Call(Node.Input(16, 16, 1)));
        Assert.Equal("dw", huge.LayerName);
        Assert.Contains("(3 - 1) * dilation 2147483647 + 1 = 4294967295 > 16", huge.Message); // wrapped, this was negative
    }

    [Theory]
    [InlineData(int.MaxValue, 1)]
    [InlineData(1, int.MaxValue)]
    [InlineData(int.MaxValue - 1, int.MaxValue - 1)]
    public void WindowCoordinatesPast32BitsAreRefused(int pool, int stride)
    {
        var e = Assert.Throws<LayerException>(() => new MaxPooling2D("pool", (pool, 1), (stride, 1), Padding.Same).Call(Node.Input(3, 3, 2)));
        Assert.Equal("pool", e.LayerName);
        Assert.Contains("past the 32-bit limit 2147483647", e.Message);
        Assert.Contains("along the height", e.Message);
    }

    [Fact]
    public void StrideOf2To30RunsAndTakesTheFirstWindow()
    {
        var input = Node.Input(5, 6, 3);
        var conv = new Conv2D("conv", 2, (3, 3), (1 << 30, 1 << 30), Padding.Same);
        var output = conv.Call(input);
        Assert.Equal(TensorShape.Nhwc(1, 1, 1, 2), output.OutputShape);
        var x = TestData.Uniform(seed: 20260601, 5 * 6 * 3);
        var kernel = conv.GetWeight("kernel").Value.Span.ToArray(); // before the model that holds the layer is disposed
        var actual = RunOnCpu(input, output, x);
        // ceil(5 / 2^30) = 1 output, 'same' total pad max(0, 3 - 5) = 0: the window at (0, 0).
        var expected = ReferenceConvolution.Conv2D(x, kernel, null, 1, 5, 6, 3, 1, 1, 2,
                                                   3, 3, 1 << 30, 1 << 30, 1, 1, 0, 0, ReferenceActivation.Identity);
        Precision.AssertClose(expected, actual, 1e-5, 10.0, "strided conv");
    }

    [Fact]
    public void PoolOf2To30WithSamePaddingIsTheWholeMapsMaximumInBoundedTime()
    {
        // The 'same' pad is about 2^29 on each side; the CPU kernel clips each window to the map, so nothing scales with it.
        var input = Node.Input(4, 5, 3);
        var output = new MaxPooling2D("pool", (1 << 30, 1 << 30), (1, 1), Padding.Same).Call(input);
        var x = TestData.Uniform(seed: 20260602, 4 * 5 * 3);
        var actual = RunOnCpu(input, output, x);
        Assert.Equal(4 * 5 * 3, actual.Length);
        for (int c = 0; c < 3; c++)
        {
            float max = Enumerable.Range(0, 20).Max(p => x[p * 3 + c]);
            for (int p = 0; p < 20; p++) Assert.Equal(max, actual[p * 3 + c]);
        }
    }

    [Theory]
    [InlineData(int.MaxValue, 0, "padded height 1 + 2147483647 + 0 = 2147483648")]
    [InlineData(int.MaxValue, int.MaxValue, "padded height 1 + 2147483647 + 2147483647 = 4294967295")]
    public void ZeroPaddingWhoseSizeOverflowsIsRefused(int top, int bottom, string expected)
    {
        var e = Assert.Throws<LayerException>(() => new ZeroPadding2D("pad", new Padding2D(top, bottom, 0, 0)).Call(Node.Input(1, 1, 1)));
        Assert.Equal("pad", e.LayerName);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData(30_000, 30_000, 3)]   // 60001² × 3 ≈ 1.1e10 elements
    [InlineData(1 << 29, 1 << 29, 1)] // (2^30 + 1)² elements, 4.6e18 bytes
    public void ZeroPaddingFarBeyondMemoryIsRefusedBeforeAnythingIsAllocated(int vertical, int horizontal, int channels)
    {
        var input = Node.Input(1, 1, channels);
        var e = Assert.Throws<LayerException>(() => new ZeroPadding2D("pad", new Padding2D(vertical, vertical, horizontal, horizontal)).Call(input));
        Assert.Equal("pad", e.LayerName);
        long elements = (2L * vertical + 1) * (2L * horizontal + 1) * channels;
        Assert.Contains($"{elements} elements ({elements * 4} bytes)", e.Message);
        Assert.Contains("this process can use", e.Message);
    }

    [Fact]
    public void APlanWhoseBatchMakesAnOutputTooLargeIsRefusedNamingTheLayer()
    {
        // 20001² floats (1.6 GB) are accepted for one image; eight images are more than a tensor holds.
        var input = Node.Input(1, 1, 1);
        var output = new ZeroPadding2D("pad", 10_000).Call(input);
        using var model = new Model("padded", input, output);
        using var backend = new CpuBackend(threadCount: 1);
        // Unfused, the plan runs the batch in one pass, so every shape is computed at batch 8 before anything is allocated.
        var e = Assert.Throws<LayerException>(() => model.CreatePlan(backend, batch: 8, fuse: false));
        Assert.Equal("pad", e.LayerName);
        Assert.Contains("(8, 20001, 20001, 1)", e.Message);
    }

    [Fact]
    public void DepthMultiplierWhoseChannelsOverflowIsRefused()
    {
        var e = Assert.Throws<LayerException>(() => new DepthwiseConv2D("dw", (1, 1), depthMultiplier: int.MaxValue).Call(Node.Input(2, 2, 3)));
        Assert.Equal("dw", e.LayerName);
        Assert.Contains("output channels 6442450941", e.Message);
    }

    [Fact]
    public void MultiplyAccumulateCountsThrowInsteadOfWrapping()
    {
        var conv = new Conv2D("conv", 1, 3);
        var huge = TensorShape.Nhwc(1 << 20, 1 << 20, 1 << 20, 1);
        Assert.Throws<OverflowException>(() => conv.CountMultiplyAccumulates([TensorShape.Nhwc(1, 1, 1, 1 << 20)], huge));
        var depthwise = new DepthwiseConv2D("dw", (1 << 30, 1 << 30));
        Assert.Throws<OverflowException>(() => depthwise.CountMultiplyAccumulates([TensorShape.Nhwc(1, 1, 1, 1)], huge));
        Assert.Equal(9L * 64 * (1L << 40), conv.CountMultiplyAccumulates([TensorShape.Nhwc(1, 1, 1, 64)], TensorShape.Nhwc(1 << 10, 1 << 10, 1 << 10, 1 << 10)));
    }

    [Fact]
    public void ActivationBuffersBeyondTheProcessMemoryAreRefused()
    {
        // Each output fits a tensor; together they are more than this process can use.
        long available = ActivationMemoryPlan.AvailableBytes;
        int count = (int)(available / (int.MaxValue * 4L)) + 2;
        var sizes = Enumerable.Repeat((long)int.MaxValue, count).ToArray();
        var separate = Assert.Throws<ArgumentException>(() => ActivationMemoryPlan.Separate(sizes));
        Assert.Contains($"{(long)int.MaxValue * 4 * count} bytes", separate.Message);
        Assert.Contains($"{available} bytes this process can use", separate.Message);
        // The last step reads every earlier one, so no two outputs can share a slot.
        var inputs = Enumerable.Range(0, count).Select(i => (IReadOnlyList<int>)(i == count - 1 ? Enumerable.Range(0, i).ToArray() : [])).ToArray();
        Assert.Contains("this process can use", Assert.Throws<ArgumentException>(() => ActivationMemoryPlan.Shared(sizes, inputs, -1)).Message);
    }

    [Fact]
    public void Padding2DComputesIn64BitsAndRefusesWhatDoesNotFit()
    {
        // ceil(5 / int.MaxValue) = 1: input + stride - 1 wrapped to a negative output before.
        Assert.Equal(Padding2D.None, Padding2D.Resolve(Padding.Same, 5, 5, 3, 3, int.MaxValue, int.MaxValue));
        Assert.Equal(1, Padding2D.OutputSize(5, 0, 0, 3, int.MaxValue));
        Assert.Equal(new Padding2D(1 << 29, 1 << 29, 0, 0), Padding2D.Resolve(Padding.Same, 1, 1, (1 << 30) + 1, 1, 1, 1));
        Assert.Contains("(3 - 1) * 1073741824 + 1 = 2147483649",
            Assert.Throws<ArgumentOutOfRangeException>(() => Padding2D.Resolve(Padding.Same, 9, 9, 3, 3, 1, 1, 1 << 30, 1)).Message);
        Assert.Contains("2147483647 + 1 + 0 = 2147483648",
            Assert.Throws<ArgumentOutOfRangeException>(() => Padding2D.OutputSize(int.MaxValue, 1, 0, 1, 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Padding2D.OutputSize(10, -1, 0, 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Padding2D.OutputSize(10, 0, 0, 3, 0));
    }

    /// <summary>Runs the graph from <paramref name="input"/> to <paramref name="output"/> once on one CPU thread.</summary>
    private static float[] RunOnCpu(Node input, Node output, float[] x)
    {
        using var model = new Model("window", input, output);
        using var backend = new CpuBackend(threadCount: 1);
        using var plan = model.CreatePlan(backend);
        plan.Input.CopyFrom(x);
        plan.Run();
        return TestData.ReadBack(plan.Output);
    }
}
