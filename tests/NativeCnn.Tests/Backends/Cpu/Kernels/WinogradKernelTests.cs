using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>
/// Winograd F(2x2, 3x3) phase by phase against the float64 reference at every SIMD width: tile rows split across calls,
/// as the worker pool splits them, and shapes it cannot compute. (The whole op on every shape is in <see cref="Conv2DOpTests"/>.)
/// </summary>
public sealed class WinogradKernelTests
{
    private const float Untouched = 12345.5f;

    [Theory]
    // batch, h, w, c, filters, pad top, pad left, out h, out w
    [InlineData(2, 5, 7, 11, 9, 1, 1, 5, 7)]    // odd map: the last tile row and column are half tiles, channels off every width
    [InlineData(1, 8, 6, 16, 24, 0, 0, 6, 4)]   // 'valid'
    public void TileRowsSplitAcrossCallsMatchTheReference(int batch, int height, int width, int channels, int filters,
                                                          int padTop, int padLeft, int outHeight, int outWidth)
    {
        var p = new Conv2DParams(batch, height, width, channels, outHeight, outWidth, filters, 3, 3, 1, 1, 1, 1, padTop, padLeft);
        var input = TestData.Uniform(96, batch * height * width * channels);
        var kernel = TestData.Uniform(97, 9 * channels * filters);
        var bias = TestData.Uniform(98, filters);
        var expected = ReferenceConvolution.Conv2D(input, kernel, bias, batch, height, width, channels, outHeight, outWidth, filters,
            3, 3, 1, 1, 1, 1, padTop, padLeft, ReferenceActivation.Identity);

        foreach (var simd in (SimdWidth[])[SimdWidth.Scalar, SimdWidth.Vector128, SimdWidth.Vector256, SimdWidth.Vector512])
            CheckPhases(simd, p, input, kernel, bias, expected);
    }

    private static void CheckPhases(SimdWidth simd, in Conv2DParams p, float[] input, float[] kernel, float[] bias, double[] expected)
    {
        int channels = p.InputChannels, filters = p.OutputChannels, outHeight = p.OutputHeight, outWidth = p.OutputWidth;
        int tiles = WinogradKernels.TileCount(p), tileRows = WinogradKernels.TileRowCount(p), positions = WinogradKernels.Positions;
        var transformedKernel = new float[positions * channels * filters];
        WinogradKernels.TransformKernel(kernel, transformedKernel, channels, filters);
        var transformed = new float[positions * tiles * channels];
        for (int row = 0; row < tileRows; row++)
            WinogradKernels.TransformInput(input, transformed, p, new RowRange(row, row + 1), simd);
        // The 16 GEMMs in plain loops: the packed GEMM has its own tests.
        var products = new float[positions * tiles * filters];
        for (int position = 0; position < positions; position++)
        for (int t = 0; t < tiles; t++)
        for (int f = 0; f < filters; f++)
        {
            double sum = 0;
            for (int c = 0; c < channels; c++)
                sum += (double)transformed[(position * tiles + t) * channels + c] * transformedKernel[(position * channels + c) * filters + f];
            products[(position * tiles + t) * filters + f] = (float)sum;
        }
        var output = new float[expected.Length];
        output.AsSpan().Fill(Untouched);
        int split = tileRows / 2;
        WinogradKernels.TransformOutput(products, bias, [], output, p, new IdentityActivation(), new RowRange(0, split), simd);
        // Only the first calls' tile rows are written so far: each tile row is two output rows of one image.
        int written = 0;
        foreach (float value in output) if (value != Untouched) written++;
        int tileRowsPerImage = (outHeight + 1) / 2, expectedWritten = 0;
        for (int row = 0; row < split; row++) expectedWritten += Math.Min(2, outHeight - 2 * (row % tileRowsPerImage)) * outWidth * filters;
        Assert.True(expectedWritten == written, $"{simd}: {written} values written, expected {expectedWritten}");
        WinogradKernels.TransformOutput(products, bias, [], output, p, new IdentityActivation(), new RowRange(split, tileRows), simd);
        Precision.AssertClose(expected, output, scale: Math.Sqrt(9 * channels), what: simd.ToString());
    }

    [Theory]
    [InlineData(3, 1, 2)]   // dilated
    [InlineData(3, 2, 1)]   // strided
    [InlineData(5, 1, 1)]   // 5x5
    public void RejectsShapesOtherThan3x3Stride1(int kernelSize, int stride, int dilation)
    {
        var p = new Conv2DParams(1, 8, 8, 4, 8 / stride, 8 / stride, 4, kernelSize, kernelSize, stride, stride, dilation, dilation, 1, 1);
        var buffer = new float[16 * 64 * 64];
        Assert.Throws<ArgumentException>(() => WinogradKernels.TransformInput(new float[8 * 8 * 4], buffer, p, new RowRange(0, 1)));
    }
}
