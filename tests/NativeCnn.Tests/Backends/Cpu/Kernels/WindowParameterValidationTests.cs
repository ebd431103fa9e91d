using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>
/// Defence in depth: window kernels and CPU ops given lying parameters (dilations and pads near 2^30, negative pads,
/// windows of ignored padding only, pads whose sums overflow) throw an <see cref="ArgumentException"/> or a
/// <see cref="BackendException"/> naming the layer before touching memory. The depthwise kernel used to compute its
/// interior columns from a wrapped <c>(k − 1)·d</c> and read far outside its input, killing the process.
/// </summary>
public sealed class WindowParameterValidationTests
{
    // 8x8x4 input and output, 3x3 kernel: the shapes are consistent, only the window arithmetic lies.
    private static DepthwiseConv2DParams Depthwise(int dilation, int pad) =>
        new(Batch: 1, InputHeight: 8, InputWidth: 8, InputChannels: 4, OutputHeight: 8, OutputWidth: 8, DepthMultiplier: 1,
            KernelHeight: 3, KernelWidth: 3, StrideHeight: 1, StrideWidth: 1, DilationHeight: dilation, DilationWidth: dilation,
            PadTop: pad, PadLeft: pad);

    [Theory]
    [InlineData(1 << 30, 1 << 30)]        // what 'same' padding resolves to for dilation 2^30 on 8 pixels
    [InlineData(int.MaxValue, 0)]
    [InlineData(1 << 29, 1 << 29)]        // every product fits, the sum of pad, input and reach does not
    [InlineData(1, -1)]
    public void DepthwiseKernelRefusesWindowArithmeticPast32Bits(int dilation, int pad)
    {
        var p = Depthwise(dilation, pad);
        var e = Assert.Throws<ArgumentException>(() =>
            DepthwiseConv2DKernels.Nhwc(new float[256], new float[36], [], new float[256], p, new IdentityActivation(), RowRange.All(p.RowCount)));
        Assert.Contains("height", e.Message);
    }

    [Fact]
    public void ConvolutionKernelsRefuseWindowArithmeticPast32Bits()
    {
        var p = new Conv2DParams(Batch: 1, InputHeight: 8, InputWidth: 8, InputChannels: 2, OutputHeight: 8, OutputWidth: 8, OutputChannels: 3,
                                 KernelHeight: 3, KernelWidth: 3, StrideHeight: 1, StrideWidth: 1, DilationHeight: 1, DilationWidth: 1 << 30,
                                 PadTop: 1, PadLeft: 1 << 30);
        var e = Assert.Throws<ArgumentException>(() => Conv2DKernels.GatherPatches(new float[128], new float[64 * 18], p, RowRange.All(64)));
        Assert.Contains("width window arithmetic reaches", e.Message);
        // Four 32-bit sizes whose product wraps 64 bits must not pass the length checks as a small count.
        var wrapped = p with { DilationWidth = 1, PadLeft = 1, Batch = 1 << 16, InputHeight = 1 << 16, InputWidth = 1 << 16, InputChannels = 1 << 16 };
        Assert.Contains("Input has", Assert.Throws<ArgumentException>(() =>
            Conv2DKernels.GatherPatches(new float[128], new float[18], wrapped, new RowRange(0, 1))).Message);
    }

    [Fact]
    public void PoolingKernelRefusesWindowsOfIgnoredPaddingOnly()
    {
        // Pad 3 before a 2-wide window: the first window holds no input cell, so it has no max and a mean of 0/0.
        var p = new Pooling2DParams(Batch: 1, InputHeight: 4, InputWidth: 4, Channels: 8, OutputHeight: 4, OutputWidth: 2,
                                    PoolHeight: 2, PoolWidth: 2, StrideHeight: 1, StrideWidth: 2, PadTop: 3, PadLeft: 0);
        Assert.Contains("wholly in the ignored padding", Assert.Throws<ArgumentException>(() =>
            PoolingKernels.AveragePool(new float[128], new float[64], p, RowRange.All(p.RowCount))).Message);
        // Counted as zeros (a ZeroPadding2D folded into max pooling), such a window is 0.
        var output = new float[64];
        PoolingKernels.MaxPool(TestData.Uniform(20260701, 128, -3f, -1f), output, p with { PaddedCellsAreZeros = true }, RowRange.All(p.RowCount));
        Assert.All(output.AsSpan(0, 2 * 8).ToArray(), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentException>(() =>
            PoolingKernels.MaxPool(new float[128], new float[64], p with { PadTop = int.MaxValue - 2 }, RowRange.All(p.RowCount)));
    }

    [Fact]
    public void ZeroPadKernelRefusesPadsWhoseSumsOverflow()
    {
        var p = new ZeroPadding2DParams(1, 2, 2, 1, new Padding2D(int.MaxValue, 1, 0, 0));
        Assert.Throws<ArgumentException>(() => PoolingKernels.ZeroPad(new float[4], new float[4], p, new RowRange(0, 0)));
        Assert.Throws<ArgumentException>(() => PoolingKernels.ZeroPad(new float[4], new float[4], p with { Padding = new Padding2D(-1, 0, 0, 0) }, new RowRange(0, 0)));
    }

    [Theory]
    [InlineData(1 << 29, 1 << 29)]     // pads fit and give an 8x8 output, the window coordinates do not
    [InlineData(1 << 30, 1 << 30)]     // the padded extent itself does not fit
    public void CpuOpsRefuseLyingDescriptorsNamingTheLayer(int dilation, int pad)
    {
        using var backend = new CpuBackend(threadCount: 1);
        using var input = new Tensor(1, 8, 8, 4);
        using var output = new Tensor(1, 8, 8, 4);
        using var kernel = new Tensor(3, 3, 4, 1);
        var depthwise = new DepthwiseConv2DOp(3, 3, 1, 1, dilation, dilation, new Padding2D(pad, pad, pad, pad), 1, false, ActivationFunction.Linear);
        var e = Assert.Throws<BackendException>(() => backend.Prepare(depthwise, new OpBinding("block1_dwconv", [new HostBuffer(input)], new HostBuffer(output), [kernel])));
        Assert.StartsWith("block1_dwconv: the height window (input 8", e.Message);
        Assert.Contains($"dilation {dilation}", e.Message);

        using var convKernel = new Tensor(3, 3, 4, 4);
        var conv = new Conv2DOp(3, 3, 1, 1, dilation, dilation, new Padding2D(pad, pad, pad, pad), 4, false, ActivationFunction.Linear);
        Assert.StartsWith("conv1: ", Assert.Throws<BackendException>(() => backend.Prepare(conv, new OpBinding("conv1", [new HostBuffer(input)], new HostBuffer(output), [convKernel]))).Message);

        var pool = new Pooling2DOp(PoolingMode.Max, 1 << 30, 1 << 30, 1, 1, new Padding2D(pad, pad, pad, pad));
        Assert.StartsWith("pool1: ", Assert.Throws<BackendException>(() => backend.Prepare(pool, new OpBinding("pool1", [new HostBuffer(input)], new HostBuffer(output), []))).Message);
    }

    [Fact]
    public void CpuZeroPaddingRefusesPadsWhoseSumsOverflow()
    {
        using var backend = new CpuBackend(threadCount: 1);
        using var input = new Tensor(1, 2, 2, 1);
        using var output = new Tensor(1, 2, 2, 1);
        var e = Assert.Throws<BackendException>(() =>
            backend.Prepare(new ZeroPadding2DOp(new Padding2D(int.MaxValue, int.MaxValue, 0, 0)), new OpBinding("pad", [new HostBuffer(input)], new HostBuffer(output), [])));
        Assert.Contains("pad: padding", e.Message);
        Assert.Contains("4294967296 x 2", e.Message);
    }
}
