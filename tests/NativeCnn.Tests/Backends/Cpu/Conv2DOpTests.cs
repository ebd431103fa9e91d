using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Ops;
using NativeCnn.Tensors;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu;

/// <summary>
/// The CPU Conv2D op on each of its paths (packed GEMM, implicit GEMM on gathered patches, GEMM on windows read in
/// place, Winograd) against the float64 reference: small maps, thin RGB stems, strided and dilated windows, asymmetric
/// pads, fused residuals, two threads.
/// </summary>
public sealed class Conv2DOpTests
{
    [Theory]
    // batch, h, w, c, filters, kernel, stride, dilation, pads (top, bottom, left, right), residual
    [InlineData(1, 7, 7, 64, 48, 3, 1, 1, 1, 1, 1, 1, false)]    // ResNet conv5-like 3x3 'same' on a 7x7 map: Winograd
    [InlineData(2, 14, 13, 17, 33, 3, 1, 1, 1, 1, 1, 1, true)]    // 13-wide map, residual: Winograd
    [InlineData(1, 33, 31, 3, 32, 3, 2, 1, 0, 1, 0, 1, false)]    // EfficientNet stem (correct_pad), RGB: windows
    [InlineData(1, 29, 27, 3, 16, 7, 2, 1, 3, 3, 3, 3, false)]    // ResNet stem 7x7/2 with conv1_pad: windows
    [InlineData(1, 9, 9, 8, 8, 3, 1, 2, 2, 2, 2, 2, false)]       // dilation 2: implicit GEMM
    [InlineData(1, 20, 18, 16, 24, 3, 1, 1, 1, 1, 1, 1, true)]    // 18-wide map: Winograd with the residual
    [InlineData(1, 12, 31, 16, 24, 3, 1, 1, 1, 1, 1, 1, true)]    // 3x3 on a 31-wide map: windows with the residual epilogue
    [InlineData(1, 13, 31, 16, 24, 3, 2, 1, 0, 1, 0, 1, true)]    // 3x3/2 on a 16-wide map: windows with the residual
    [InlineData(1, 12, 63, 16, 24, 3, 2, 1, 1, 1, 1, 1, true)]    // 3x3/2 on a 32-wide map: windows with the residual epilogue
    [InlineData(2, 45, 43, 5, 20, 3, 2, 1, 1, 1, 1, 1, true)]     // thin input, batch 2: windows
    [InlineData(3, 6, 5, 7, 19, 5, 1, 1, 2, 2, 2, 2, false)]      // kernel wider than the map's inner columns: windows
    [InlineData(2, 11, 9, 24, 40, 1, 2, 1, 0, 0, 0, 0, true)]     // strided 1x1: windows
    [InlineData(1, 10, 12, 40, 24, 1, 1, 1, 0, 0, 0, 0, false)]   // pointwise: packed GEMM
    public void MatchesTheReferenceOnEveryPath(int batch, int height, int width, int channels, int filters, int kernelSize, int stride,
                                               int dilation, int top, int bottom, int left, int right, bool hasResidual)
        => Check(null, batch, height, width, channels, filters, kernelSize, stride, dilation, top, bottom, left, right, hasResidual);

    [Theory]
    // path, batch, h, w, c, filters, kernel, stride, dilation, pads (top, bottom, left, right), residual
    [InlineData("ImplicitGemm", 1, 28, 28, 32, 40, 3, 1, 1, 1, 1, 1, 1, true)]     // ResNet conv3-like 3x3, residual
    [InlineData("ImplicitGemm", 3, 9, 11, 13, 35, 3, 1, 1, 1, 1, 1, 1, false)]     // batch 3, odd channels, slots cross images
    [InlineData("ImplicitGemm", 2, 15, 13, 9, 17, 3, 2, 1, 0, 1, 0, 1, true)]      // stride 2, TF 'same' pads right/bottom
    [InlineData("ImplicitGemm", 1, 12, 10, 8, 16, 5, 1, 1, 2, 2, 2, 2, false)]     // 5x5, most windows clipped
    [InlineData("ImplicitGemm", 1, 11, 13, 10, 24, 3, 1, 2, 2, 2, 2, 2, false)]    // dilation 2
    [InlineData("ImplicitGemm", 1, 4, 5, 12, 8, 3, 1, 1, 3, 0, 0, 3, false)]      // pads larger than the window reach
    [InlineData("ImplicitGemm", 1, 7, 7, 384, 40, 3, 1, 1, 1, 1, 1, 1, true)]      // K = 3456: weights beyond L2, one panel at a time
    [InlineData("ImplicitGemm", 1, 8, 6, 24, 16, 1, 2, 1, 0, 0, 0, 0, false)]      // strided 1x1
    [InlineData("Windows", 1, 29, 27, 3, 16, 7, 2, 1, 3, 3, 3, 3, true)]           // ResNet stem 7x7/2 with conv1_pad, residual
    [InlineData("Windows", 2, 33, 31, 3, 40, 3, 2, 1, 0, 1, 0, 1, false)]          // EfficientNet stem (correct_pad), 2 panels
    [InlineData("Windows", 3, 9, 11, 13, 35, 3, 1, 1, 1, 1, 1, 1, false)]          // batch 3, odd channels, 'same'
    [InlineData("Windows", 1, 30, 29, 16, 24, 3, 1, 1, 1, 1, 1, 1, true)]          // 29 wide: tiles of 9 and 10 pixels
    [InlineData("Windows", 1, 4, 5, 12, 8, 3, 1, 1, 3, 0, 0, 3, false)]            // pads larger than the window reach
    [InlineData("Windows", 1, 7, 7, 384, 72, 3, 1, 1, 1, 1, 1, 1, true)]           // K = 3456, 3 panels, 7 output rows: panel groups
    [InlineData("Windows", 2, 11, 9, 24, 40, 1, 2, 1, 0, 0, 0, 0, true)]           // strided 1x1, no padding copy
    [InlineData("Windows", 1, 6, 113, 8, 20, 3, 1, 1, 1, 1, 1, 1, false)]          // 113 wide: tiles of 11 and 12 pixels
    [InlineData("Winograd", 1, 28, 28, 32, 40, 3, 1, 1, 1, 1, 1, 1, true)]         // even map, residual
    [InlineData("Winograd", 3, 9, 11, 13, 35, 3, 1, 1, 1, 1, 1, 1, false)]         // odd H and W (half tiles), batch 3, odd channels
    [InlineData("Winograd", 2, 7, 7, 64, 48, 3, 1, 1, 1, 1, 1, 1, true)]           // ResNet conv5-like 7x7
    [InlineData("Winograd", 1, 10, 9, 8, 16, 3, 1, 1, 0, 0, 0, 0, false)]          // 'valid'
    [InlineData("Winograd", 1, 6, 8, 5, 7, 3, 1, 1, 0, 2, 2, 0, true)]             // asymmetric pads
    [InlineData("Winograd", 1, 2, 1, 9, 3, 3, 1, 1, 1, 1, 1, 1, false)]            // maps smaller than a tile
    [InlineData("Pointwise", 2, 7, 7, 3200, 40, 1, 1, 1, 0, 0, 0, 0, true)]        // K = 3200: one panel at a time
    [InlineData("Pointwise", 1, 12, 14, 1024, 256, 1, 1, 1, 0, 0, 0, 0, false)]    // 1 MB of weights: 156-pixel chunks, panel by panel
    public void MatchesTheReferenceOnAForcedPath(string path, int batch, int height, int width, int channels, int filters,
                                                 int kernelSize, int stride, int dilation, int top, int bottom, int left, int right,
                                                 bool hasResidual)
        => Check(Enum.Parse<Conv2DPath>(path), batch, height, width, channels, filters, kernelSize, stride, dilation, top, bottom, left,
                 right, hasResidual);

    [Theory]
    [InlineData(1, 1, 1, 1, "Pointwise")]
    [InlineData(1, 2, 1, 28, "Windows")]     // strided 1x1
    [InlineData(7, 2, 1, 112, "Windows")]    // RGB stem
    [InlineData(3, 1, 1, 56, "Windows")]
    [InlineData(3, 1, 1, 28, "Winograd")]
    [InlineData(3, 1, 1, 7, "Winograd")]
    [InlineData(3, 1, 2, 7, "ImplicitGemm")] // dilated along the width: windows are not contiguous
    [InlineData(3, 2, 1, 28, "Windows")]
    [InlineData(5, 1, 1, 14, "Windows")]
    public void PicksThePathByShape(int kernelSize, int stride, int dilationWidth, int outputWidth, string expected)
    {
        var op = new Conv2DOp(kernelSize, kernelSize, stride, stride, 1, dilationWidth, kernelSize == 1 ? Padding2D.None : new Padding2D(1, 1, 1, 1),
                              Filters: 64, UseBias: true, ActivationFunction.Relu, AddsResidual: false);
        Assert.Equal(Enum.Parse<Conv2DPath>(expected), Conv2DPathSelector.Choose(op, TensorShape.Nhwc(1, 9, outputWidth, 64)).Path);
    }

    [Theory]
    [InlineData(49, 4608, 4, 32)]     // ResNet conv5 3x3 patches
    [InlineData(196, 2304, 8, 32)]    // conv4 3x3 patches
    [InlineData(196, 1024, 8, 32)]    // conv4 1x1 1024 → 256
    [InlineData(392, 4608, 16, 32)]   // conv5 3x3, batch 8
    [InlineData(12544, 27, 1, 32)]    // EfficientNet's RGB stem: slots of up to 64 KiB
    public void ChunksAreWholeBlocksOrTheWholeMap(int pixels, int depth, int panelsPerCall, int panelWidth)
    {
        int chunk = CpuPackedGemmConv2D.ChooseChunkPixels(pixels, depth, panelsPerCall, panelWidth);
        Assert.True(chunk == 0 || chunk == pixels || chunk % 12 == 0, $"chunk {chunk}"); // 0: weights fit in L2, the kernel blocks
        int slot = CpuImplicitGemmConv2D.SlotPixels(pixels, depth, chunk);
        Assert.True(slot % 12 == 0 && slot >= 12 && slot <= Math.Max(96, 16384 / depth), $"slot {slot}");
        int slots = (pixels + slot - 1) / slot;
        Assert.True(pixels - (slots - 1) * slot > slot - 12 - (slots - 1) * 12, $"slot {slot} leaves a short last slot for {pixels} pixels");
    }

    private static void Check(Conv2DPath? path, int batch, int height, int width, int channels, int filters, int kernelSize, int stride,
                              int dilation, int top, int bottom, int left, int right, bool hasResidual)
    {
        int outH = ReferenceConvolution.OutputSize(height, kernelSize, stride, dilation, top, bottom);
        int outW = ReferenceConvolution.OutputSize(width, kernelSize, stride, dilation, left, right);
        var input = TestData.Uniform(91, batch * height * width * channels);
        var kernel = TestData.Uniform(92, kernelSize * kernelSize * channels * filters);
        var bias = TestData.Uniform(93, filters);
        var expected = ReferenceConvolution.Conv2D(input, kernel, bias, batch, height, width, channels, outH, outW, filters,
            kernelSize, kernelSize, stride, stride, dilation, dilation, top, left, ReferenceActivation.Identity);
        float[]? residual = hasResidual ? TestData.Uniform(94, expected.Length) : null;
        for (int i = 0; i < expected.Length; i++)
        {
            double sum = expected[i] + (residual?[i] ?? 0);
            expected[i] = Math.Max(0, sum); // ReLU after the residual, as ResNet's blocks end
        }

        using var backend = new CpuBackend(threadCount: 2);
        var shape = TensorShape.Nhwc(batch, outH, outW, filters);
        using var x = Tensor.FromArray(input, TensorShape.Nhwc(batch, height, width, channels));
        using var r = residual is null ? null : Tensor.FromArray(residual, shape);
        using var y = new Tensor(shape);
        using var w = Tensor.FromArray(kernel, new TensorShape(kernelSize, kernelSize, channels, filters));
        using var b = Tensor.FromArray(bias, new TensorShape(filters));
        var op = new Conv2DOp(kernelSize, kernelSize, stride, stride, dilation, dilation, new Padding2D(top, bottom, left, right), filters,
                              UseBias: true, ActivationFunction.Relu, AddsResidual: r is not null);
        IDeviceBuffer[] inputs = r is null ? [new HostBuffer(x)] : [new HostBuffer(x), new HostBuffer(r)];
        using var pool = new WorkerPool(threadCount: 2);
        var binding = new OpBinding("conv", inputs, new HostBuffer(y), [w, b]);
        using var prepared = path is null ? backend.Prepare(op, binding) : CpuConv2D.Create(op, binding, pool, path);
        if (path is not null) Assert.Equal(path, ((CpuConv2D)prepared).Path);
        prepared.Run();
        Precision.AssertClose(expected, y.Span, scale: Math.Sqrt(kernelSize * kernelSize * channels));
        prepared.Run(); // a second run (patches reused) gives the same result
        Precision.AssertClose(expected, y.Span, scale: Math.Sqrt(kernelSize * kernelSize * channels));
    }
}
