using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Tensors;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Kernels;

/// <summary>
/// The CPU Conv2D op on each of its paths (direct kernel, packed GEMM, GEMM on gathered patches) against the float64
/// reference: small maps, thin RGB stems, strided and dilated windows, asymmetric pads, fused residuals, two threads.
/// </summary>
public sealed class Conv2DOpTests
{
    [Theory]
    // batch, h, w, c, filters, kernel, stride, dilation, pads (top, bottom, left, right), residual
    [InlineData(1, 7, 7, 64, 48, 3, 1, 1, 1, 1, 1, 1, false)]    // ResNet conv5-like 3x3 'same' on a 7x7 map: patches
    [InlineData(2, 14, 13, 17, 33, 3, 1, 1, 1, 1, 1, 1, true)]    // 14-wide map, residual: patches
    [InlineData(1, 33, 31, 3, 32, 3, 2, 1, 0, 1, 0, 1, false)]    // EfficientNet stem (correct_pad), RGB: patches
    [InlineData(1, 29, 27, 3, 16, 7, 2, 1, 3, 3, 3, 3, false)]    // ResNet stem 7x7/2 with conv1_pad: patches
    [InlineData(1, 9, 9, 8, 8, 3, 1, 2, 2, 2, 2, 2, false)]       // dilation 2: patches
    [InlineData(2, 45, 43, 5, 20, 3, 2, 1, 1, 1, 1, 1, true)]     // thin input, patch blocks crossing the image boundary: patches
    [InlineData(3, 6, 5, 7, 19, 5, 1, 1, 2, 2, 2, 2, false)]      // kernel wider than the map's inner columns: patches
    [InlineData(1, 20, 18, 16, 24, 3, 1, 1, 1, 1, 1, 1, true)]    // wide map: direct kernel with the residual epilogue
    [InlineData(2, 11, 9, 24, 40, 1, 2, 1, 0, 0, 0, 0, true)]     // strided 1x1: patches
    [InlineData(1, 10, 12, 40, 24, 1, 1, 1, 0, 0, 0, 0, false)]   // pointwise: packed GEMM
    public void MatchesTheReferenceOnEveryPath(int batch, int height, int width, int channels, int filters, int kernelSize, int stride,
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
        IDeviceBuffer[] inputs = r is null ? [x] : [x, r];
        using var prepared = backend.Prepare(op, new OpBinding("conv", inputs, y, [w, b]));
        prepared.Run();
        Precision.AssertClose(expected, y.Span, scale: Math.Sqrt(kernelSize * kernelSize * channels));
        prepared.Run(); // a second run (patches reused) gives the same result
        Precision.AssertClose(expected, y.Span, scale: Math.Sqrt(kernelSize * kernelSize * channels));
    }
}
