using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Layers;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Layers;

public class BatchNormalizationMathTests
{
    [Theory]
    [InlineData(1, true, true, 1e-3)]
    [InlineData(17, true, true, 1e-5)]
    [InlineData(33, false, true, 1e-3)]
    [InlineData(7, true, false, 1.001e-5)]
    [InlineData(5, false, false, 1e-3)]
    public void ScaleShiftIsFloat64RoundedOnce(int channels, bool hasGamma, bool hasBeta, double epsilon)
    {
        var gamma = hasGamma ? TestData.Uniform(channels, channels, 0.5f, 2f) : [];
        var beta = hasBeta ? TestData.Uniform(channels + 1, channels) : [];
        var mean = TestData.Uniform(channels + 2, channels, -3f, 3f);
        // Tiny variances make epsilon matter.
        var variance = TestData.Uniform(channels + 3, channels, 0f, 0.01f);
        var scale = new float[channels];
        var shift = new float[channels];

        BatchNormalizationMath.ComputeScaleShift(gamma, beta, mean, variance, epsilon, scale, shift);

        for (int c = 0; c < channels; c++)
        {
            double s = (hasGamma ? gamma[c] : 1.0) / Math.Sqrt((double)variance[c] + epsilon);
            Assert.Equal((float)s, scale[c]);
            Assert.Equal((float)((hasBeta ? beta[c] : 0.0) - mean[c] * s), shift[c]);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FoldIntoConv2DScalesTheLastAxis(bool hasBias)
    {
        const int kh = 3, kw = 3, inC = 5, outC = 17;
        var kernel = TestData.Uniform(10, kh * kw * inC * outC);
        var bias = hasBias ? TestData.Uniform(11, outC) : [];
        var scale = TestData.Uniform(12, outC, 0.1f, 3f);
        var shift = TestData.Uniform(13, outC);
        var foldedKernel = new float[kernel.Length];
        var foldedBias = new float[outC];

        BatchNormalizationMath.FoldIntoConv2D(kernel, bias, scale, shift, foldedKernel, foldedBias);

        for (int i = 0; i < kernel.Length; i++) Assert.Equal(kernel[i] * scale[i % outC], foldedKernel[i]);
        for (int f = 0; f < outC; f++)
            Assert.Equal((float)((hasBias ? (double)bias[f] * scale[f] : 0.0) + shift[f]), foldedBias[f]);
    }

    [Fact]
    public void FoldedConv2DMatchesConvThenBatchNormalization()
    {
        const int h = 7, w = 6, inC = 3, outC = 17, k = 3;
        var (input, kernel, bias) = (TestData.Uniform(20, h * w * inC), TestData.Uniform(21, k * k * inC * outC), TestData.Uniform(22, outC));
        var (gamma, beta, mean, variance) = (TestData.Uniform(23, outC, 0.5f, 2f), TestData.Uniform(24, outC),
                                             TestData.Uniform(25, outC), TestData.Uniform(26, outC, 0.1f, 2f));
        var (scale, shift) = (new float[outC], new float[outC]);
        BatchNormalizationMath.ComputeScaleShift(gamma, beta, mean, variance, 1e-3, scale, shift);
        var (foldedKernel, foldedBias) = (new float[kernel.Length], new float[outC]);
        BatchNormalizationMath.FoldIntoConv2D(kernel, bias, scale, shift, foldedKernel, foldedBias);

        // The folded kernel and bias through the float64 reference convolution: the folding alone is under test.
        var output = Array.ConvertAll(ReferenceConvolution.Conv2D(input, foldedKernel, foldedBias, 1, h, w, inC, h, w, outC, k, k, 1, 1, 1, 1, 1, 1,
                                                                  ReferenceActivation.Identity), v => (float)v);

        var expected = ReferenceConvolution.Conv2D(input, kernel, bias, 1, h, w, inC, h, w, outC, k, k, 1, 1, 1, 1, 1, 1,
                                                   ReferenceActivation.Identity);
        for (int i = 0; i < expected.Length; i++)
        {
            int f = i % outC;
            expected[i] = (expected[i] - mean[f]) * gamma[f] / Math.Sqrt(variance[f] + 1e-3) + beta[f];
        }
        Precision.AssertClose(expected, output, scale: 10.0);
    }

    [Fact]
    public void FoldedDepthwiseMatchesDepthwiseThenBatchNormalization()
    {
        const int h = 6, w = 7, inC = 5, m = 2, k = 3, outC = inC * m;
        var (input, kernel) = (TestData.Uniform(30, h * w * inC), TestData.Uniform(31, k * k * outC));
        var (gamma, beta, mean, variance) = (TestData.Uniform(33, outC, 0.5f, 2f), TestData.Uniform(34, outC),
                                             TestData.Uniform(35, outC), TestData.Uniform(36, outC, 0.1f, 2f));
        var (scale, shift) = (new float[outC], new float[outC]);
        BatchNormalizationMath.ComputeScaleShift(gamma, beta, mean, variance, 1e-3, scale, shift);
        var (foldedKernel, foldedBias) = (new float[kernel.Length], new float[outC]);
        BatchNormalizationMath.FoldIntoDepthwiseConv2D(kernel, [], scale, shift, foldedKernel, foldedBias);

        var p = new DepthwiseConv2DParams(1, h, w, inC, h, w, m, k, k, 1, 1, 1, 1, 1, 1);
        var output = new float[h * w * outC];
        DepthwiseConv2DKernels.Nhwc(input, foldedKernel, foldedBias, output, p, new IdentityActivation(), RowRange.All(p.RowCount));

        var expected = ReferenceConvolution.DepthwiseConv2D(input, kernel, null, 1, h, w, inC, h, w, m, k, k, 1, 1, 1, 1, 1, 1,
                                                            ReferenceActivation.Identity);
        for (int i = 0; i < expected.Length; i++)
        {
            int o = i % outC;
            expected[i] = (expected[i] - mean[o]) * gamma[o] / Math.Sqrt(variance[o] + 1e-3) + beta[o];
        }
        Precision.AssertClose(expected, output, scale: 10.0);
    }

    [Fact]
    public void RejectsMismatchedLengths()
    {
        Assert.Throws<ArgumentException>(() =>
            BatchNormalizationMath.ComputeScaleShift([1f], [], [0f, 0f], [1f, 1f], 1e-3, new float[2], new float[2]));
        Assert.Throws<ArgumentException>(() =>
            BatchNormalizationMath.FoldIntoConv2D(new float[10], [], new float[3], new float[3], new float[10], new float[3]));
    }
}
