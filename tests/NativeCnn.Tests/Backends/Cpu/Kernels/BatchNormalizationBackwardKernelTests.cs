using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary><see cref="BatchNormalizationTrainingKernels"/> at every SIMD width against <see cref="ReferenceBatchNorm"/>, itself checked by finite differences.</summary>
public class BatchNormalizationBackwardKernelTests(ITestOutputHelper output)
{
    private const float Epsilon = 1e-3f;

    /// <summary>(pixels = batch·height·width, channels): channels below, between and past the widths and one stack block (256).</summary>
    private static readonly (int Pixels, int Channels)[] s_shapes = [(1 * 1 * 2, 1), (2 * 3 * 5, 3), (3 * 5 * 7, 17), (2 * 4 * 3, 33), (2 * 3 * 3, 300)];

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void ReferenceMatchesFiniteDifferences(bool scale, bool center)
    {
        const int pixels = 2 * 3 * 2, channels = 3;
        var x = ReferenceBackward.D(TestData.Uniform(1, pixels * channels, -2f, 2f));
        double[]? gamma = scale ? ReferenceBackward.D(TestData.Uniform(2, channels, 0.5f, 1.5f)) : null;
        double[]? beta = center ? ReferenceBackward.D(TestData.Uniform(3, channels)) : null;
        var dy = ReferenceBackward.D(TestData.Uniform(4, pixels * channels));
        var (dx, dGamma, dBeta) = ReferenceBatchNorm.Backward(x, gamma, dy, pixels, channels, Epsilon);
        ReferenceBackward.AssertMatchesFiniteDifference(dx, ReferenceBackward.FiniteDifference(x, dy, v => ReferenceBatchNorm.Forward(v, gamma, beta, pixels, channels, Epsilon)), "dX");
        if (gamma is not null)
            ReferenceBackward.AssertMatchesFiniteDifference(dGamma, ReferenceBackward.FiniteDifference(gamma, dy, v => ReferenceBatchNorm.Forward(x, v, beta, pixels, channels, Epsilon)), "dGamma");
        if (beta is not null)
            ReferenceBackward.AssertMatchesFiniteDifference(dBeta, ReferenceBackward.FiniteDifference(beta, dy, v => ReferenceBatchNorm.Forward(x, gamma, v, pixels, channels, Epsilon)), "dBeta");
    }

    public static TheoryData<SimdWidth, bool, bool> Cases()
    {
        var data = new TheoryData<SimdWidth, bool, bool>();
        foreach (var width in SimdSupport.AllWidthsAndAuto[..4])
        {
            data.Add(width, true, true);
            data.Add(width, false, false);
            data.Add(width, true, false);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TrainingForwardAndBackwardMatchReference(SimdWidth width, bool scale, bool center)
    {
        double worst = 0;
        foreach (var (pixels, channels) in s_shapes)
        {
            // An offset mean, as real activations have: the variance must not come from E[x²] − E[x]².
            var x = TestData.Uniform(pixels + channels, pixels * channels, 3f, 5f);
            float[] gamma = scale ? TestData.Uniform(channels, channels, 0.5f, 1.5f) : [];
            float[] beta = center ? TestData.Uniform(channels + 1, channels) : [];
            var dy = TestData.Uniform(pixels * 3 + channels, pixels * channels);
            var xd = ReferenceBackward.D(x);
            var (eMean, eVariance) = ReferenceBatchNorm.Moments(xd, pixels, channels);
            var eY = ReferenceBatchNorm.Forward(xd, scale ? ReferenceBackward.D(gamma) : null, center ? ReferenceBackward.D(beta) : null, pixels, channels, Epsilon);
            var (eDx, eDGamma, eDBeta) = ReferenceBatchNorm.Backward(xd, scale ? ReferenceBackward.D(gamma) : null, ReferenceBackward.D(dy), pixels, channels, Epsilon);
            string what = $"{pixels}x{channels} scale {scale} center {center} at {width}";

            var y = DenseBackwardKernelTests.Filled(x.Length, float.NaN);
            var mean = new float[channels];
            var variance = new float[channels];
            var inverseStd = new float[channels];
            BatchNormalizationTrainingKernels.Forward(x, gamma, beta, y, mean, variance, inverseStd, pixels, Epsilon, width);
            worst = Math.Max(worst, BackwardAssert.Close(eMean, mean, 1e-3, $"mean {what}"));
            worst = Math.Max(worst, BackwardAssert.Close(eVariance, variance, BackwardAssert.Scale(eVariance), $"variance {what}", 1e-5));
            worst = Math.Max(worst, BackwardAssert.Close(eY, y, 1.0, $"y {what}"));

            // dX is a difference of terms of size γ·dy/σ, which cancel (wholly, at two pixels): the error scales with them.
            var terms = new double[x.Length];
            for (int i = 0; i < terms.Length; i++)
                terms[i] = (scale ? gamma[i % channels] : 1) * dy[i] / Math.Sqrt(eVariance[i % channels] + Epsilon);
            double dxScale = Math.Max(BackwardAssert.Scale(eDx), BackwardAssert.Scale(terms));
            var dx = DenseBackwardKernelTests.Filled(x.Length, float.NaN);
            var dGamma = scale ? DenseBackwardKernelTests.Filled(channels, float.NaN) : [];
            var dBeta = center ? DenseBackwardKernelTests.Filled(channels, float.NaN) : [];
            BatchNormalizationTrainingKernels.Backward(x, dy, gamma, mean, inverseStd, dx, dGamma, dBeta, pixels, accumulate: false, width);
            worst = Math.Max(worst, BackwardAssert.Close(eDx, dx, dxScale, $"dX {what}"));
            if (scale) worst = Math.Max(worst, BackwardAssert.Close(eDGamma, dGamma, BackwardAssert.Scale(eDGamma), $"dGamma {what}"));
            if (center) worst = Math.Max(worst, BackwardAssert.Close(eDBeta, dBeta, BackwardAssert.Scale(eDBeta), $"dBeta {what}"));

            // In place, accumulating the parameter gradients onto the first pass's.
            BatchNormalizationTrainingKernels.Backward(x, dy, gamma, mean, inverseStd, dy, dGamma, dBeta, pixels, accumulate: true, width);
            BackwardAssert.Close(eDx, dy, dxScale, $"dX in place {what}");
            if (scale) BackwardAssert.Close(eDGamma.Select(v => 2 * v).ToArray(), dGamma, 2 * BackwardAssert.Scale(eDGamma), $"dGamma += {what}");
            if (center) BackwardAssert.Close(eDBeta.Select(v => 2 * v).ToArray(), dBeta, 2 * BackwardAssert.Scale(eDBeta), $"dBeta += {what}");
        }
        output.WriteLine($"max relative error {worst:E3}");
    }

    [Fact]
    public void MovingStatisticsFollowKeras()
    {
        // Keras: moving * momentum + batch * (1 - momentum), the biased batch variance, momentum a Python float.
        float[] movingMean = [0f, 1f, -2f], movingVariance = [1f, 1f, 0.5f];
        float[] mean = [0.5f, -1f, 3f], variance = [2f, 0.25f, 4f];
        BatchNormalizationTrainingKernels.UpdateMovingStatistics(movingMean, movingVariance, mean, variance, 0.99);
        float keep = 0.99f, take = (float)(1 - 0.99);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(new[] { 0f, 1f, -2f }[c] * keep + mean[c] * take, movingMean[c]);
            Assert.Equal(new[] { 1f, 1f, 0.5f }[c] * keep + variance[c] * take, movingVariance[c]);
        }
    }

    [Fact]
    public void ChannelAndPixelRangesGiveWhatTheWholeTensorGivesBitForBit()
    {
        // How a training op splits the work between threads: statistics and gradient sums by channel ranges (not multiples
        // of the vector width), the element-wise passes by pixel ranges; and the input gradient added to what is there.
        const int pixels = 3 * 7 * 5, channels = 37;
        var x = TestData.Uniform(11, pixels * channels, 3f, 5f);
        var gamma = TestData.Uniform(12, channels, 0.5f, 1.5f);
        var beta = TestData.Uniform(13, channels);
        var dy = TestData.Uniform(14, pixels * channels);
        var (mean, variance, inverseStd, y) = (new float[channels], new float[channels], new float[channels], new float[pixels * channels]);
        BatchNormalizationTrainingKernels.Forward(x, gamma, beta, y, mean, variance, inverseStd, pixels, Epsilon);
        var (dx, dGamma, dBeta) = (TestData.Uniform(15, pixels * channels), new float[channels], new float[channels]);
        var dxBefore = dx.ToArray();
        BatchNormalizationTrainingKernels.Backward(x, dy, gamma, mean, inverseStd, dx, dGamma, dBeta, pixels, accumulate: false, accumulateInputGradient: true);

        var (mean2, variance2, inverseStd2, y2) = (new float[channels], new float[channels], new float[channels], new float[pixels * channels]);
        var sums = new double[channels];
        var (sumDy, sumDyXhat) = (new double[channels], new double[channels]);
        RowRange[] channelRanges = [new(0, 16), new(16, 21), new(21, 37)], pixelRanges = [new(0, 1), new(1, 50), new(50, pixels)];
        foreach (var range in channelRanges)
        {
            BatchNormalizationTrainingKernels.Statistics(x, mean2, variance2, inverseStd2, pixels, Epsilon, range, sums);
            BatchNormalizationTrainingKernels.GradientSums(x, dy, mean2, inverseStd2, sumDy.AsSpan(range.Start), sumDyXhat.AsSpan(range.Start), pixels, range);
        }
        foreach (var range in pixelRanges) BatchNormalizationTrainingKernels.Normalize(x, gamma, beta, mean2, inverseStd2, y2, range);
        Assert.Equal(mean, mean2);
        Assert.Equal(variance, variance2);
        Assert.Equal(inverseStd, inverseStd2);
        Assert.Equal(y, y2);
        Assert.Equal(dBeta, sumDy.Select(v => (float)v).ToArray());
        Assert.Equal(dGamma, sumDyXhat.Select(v => (float)v).ToArray());

        var scale = Enumerable.Range(0, channels).Select(c => (float)(gamma[c] * (double)inverseStd[c])).ToArray();
        var center = sumDy.Select(v => (float)(v / pixels)).ToArray();
        var slope = Enumerable.Range(0, channels).Select(c => (float)(inverseStd[c] * sumDyXhat[c] / pixels)).ToArray();
        var dx2 = dxBefore;
        foreach (var range in pixelRanges)
            BatchNormalizationTrainingKernels.InputGradient(x, dy, mean, scale, center, slope, dx2, 0, range, accumulate: true);
        Assert.Equal(dx, dx2);
    }

    [Fact]
    public void WrongLengthsThrow()
    {
        var x = new float[12];
        Assert.Throws<ArgumentException>(() => BatchNormalizationTrainingKernels.Forward(x, new float[2], [], new float[12], new float[3], new float[3], new float[3], 4, 1e-3f));
        Assert.Throws<ArgumentException>(() => BatchNormalizationTrainingKernels.Forward(x, [], [], new float[12], new float[3], new float[3], new float[3], 5, 1e-3f));
        Assert.Throws<ArgumentException>(() => BatchNormalizationTrainingKernels.Backward(x, new float[11], [], new float[3], new float[3], new float[12], [], [], 4, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormalizationTrainingKernels.Backward([], [], [], new float[3], new float[3], [], [], [], 0, false));
    }
}
