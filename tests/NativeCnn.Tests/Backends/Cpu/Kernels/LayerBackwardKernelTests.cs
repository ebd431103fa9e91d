using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>
/// The backward kernels of the newer layers called directly: overwrite and accumulate modes, empty (unneeded) gradients,
/// and the checks on their arguments. Their values against float64 definitions and finite differences are in
/// <c>LayerTrainingOpTests</c>.
/// </summary>
public sealed class LayerBackwardKernelTests
{
    [Fact]
    public void BilinearUpSamplingGradientOverwritesOrAddsAndEachOutputGivesBackWhatItSampled()
    {
        var p = new UpSampling2DParams(2, 3, 2, 3, 2, 3);
        var rows = new BilinearAxis(3, 2);
        var columns = new BilinearAxis(2, 3);
        var dy = new float[p.Batch * p.OutputHeight * p.OutputWidth * p.Channels];
        Array.Fill(dy, 1f);
        var dx = Enumerable.Repeat(7f, p.Batch * 3 * 2 * 3).ToArray();
        ElementwiseBackwardKernels.UpSampling2DBilinear(dy, dx, in p, rows, columns, new RowRange(0, 2), accumulate: false);
        // Every output pixel's weights sum to 1: the input gradients of all-ones sum to the output pixel count per channel.
        Assert.Equal(p.Batch * p.OutputHeight * p.OutputWidth * p.Channels, dx.Sum(), 3);
        var once = dx.ToArray();
        ElementwiseBackwardKernels.UpSampling2DBilinear(dy, dx, in p, rows, columns, new RowRange(1, 2), accumulate: true);
        int image = 3 * 2 * 3;
        Assert.Equal(once.AsSpan(0, image).ToArray(), dx.AsSpan(0, image).ToArray());
        for (int i = image; i < dx.Length; i++) Assert.Equal(2 * once[i], dx[i], 5);
        Assert.Throws<ArgumentException>(() => ElementwiseBackwardKernels.UpSampling2DBilinear(dy, dx, in p, new BilinearAxis(3, 3), columns, new RowRange(0, 2), accumulate: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => ElementwiseBackwardKernels.UpSampling2DBilinear(dy, dx, in p, rows, columns, new RowRange(0, 3), accumulate: false));
        Assert.Throws<ArgumentException>(() => ElementwiseBackwardKernels.UpSampling2DBilinear(dy.AsSpan(1), dx, in p, rows, columns, new RowRange(0, 2), accumulate: false));
    }

    [Fact]
    public void SubtractGivesTheGradientAndItsNegationAndSkipsAnEmptyOne()
    {
        float[] dy = [1, -2, 3], left = [1, 1, 1], right = [1, 1, 1];
        ElementwiseBackwardKernels.Subtract(dy, left, right, accumulate: true);
        Assert.Equal([2f, -1, 4], left);
        Assert.Equal([0f, 3, -2], right);
        ElementwiseBackwardKernels.Subtract(dy, default, right, accumulate: false);
        Assert.Equal([-1f, 2, -3], right);
        Assert.Throws<ArgumentException>(() => ElementwiseBackwardKernels.Subtract(dy, default, new float[2], accumulate: false));
    }

    [Fact]
    public void ExtremumRoutesTiesAndNaNsAsTensorFlowAndMayWriteItsLeftGradientOverTheOutputGradient()
    {
        float[] left = [1, 2, 3, float.NaN], right = [1, 3, 2, 0];
        float[] dy = [10, 20, 30, 40], dRight = new float[4];
        ElementwiseBackwardKernels.Extremum(dy, left, right, dy, dRight, maximum: true);
        Assert.Equal([10f, 0, 30, 0], dy);
        Assert.Equal([0f, 20, 0, 40], dRight);
        float[] g = [10, 20, 30, 40];
        ElementwiseBackwardKernels.Extremum(g, left, right, default, dRight, maximum: false);
        Assert.Equal([0f, 0, 30, 40], dRight);
        Assert.Throws<ArgumentException>(() => ElementwiseBackwardKernels.Extremum(g, left, new float[3], default, dRight, maximum: true));
    }

    [Fact]
    public void PReluGradientHasNoSlopeAtZeroAsTensorFlowDifferentiatesRelu()
    {
        float[] dy = [1, 1, 1], x = [-2, 0, 3], alpha = [0.5f, 0.5f, 0.5f];
        var dx = new float[3];
        var da = new float[3];
        ElementwiseBackwardKernels.PRelu(dy, x, alpha, dx, da, accumulate: false);
        Assert.Equal([0.5f, 0, 1], dx);
        Assert.Equal([-2f, 0, 0], da);
        ElementwiseBackwardKernels.PRelu(dy, x, alpha, dx, default, accumulate: true);
        Assert.Equal([1f, 0, 2], dx);
        Assert.Throws<ArgumentException>(() => ElementwiseBackwardKernels.PRelu(dy, x, new float[2], dx, da, accumulate: false));
    }

    [Fact]
    public void LayerNormalizationGradientOverwritesTheInputGradientAndAddsTheWeightGradients()
    {
        const int length = 5;
        var x = TestData.Uniform(1, 4 * length);
        var dy = TestData.Uniform(2, 4 * length);
        var gamma = TestData.Uniform(3, length, 0.5f, 1.5f);
        var dx = Enumerable.Repeat(9f, x.Length).ToArray();
        var dGamma = new float[length];
        var dBeta = new float[length];
        LayerNormalizationBackwardKernels.Backward(x, dy, gamma, length, 1e-3, dx, dGamma, dBeta, new RowRange(0, 4), accumulate: false);
        // Normalization removes the mean: each row's input gradient sums to zero.
        for (int row = 0; row < 4; row++) Assert.Equal(0, dx.AsSpan(row * length, length).ToArray().Sum(), 5);
        for (int c = 0; c < length; c++) Assert.Equal(dy[c] + dy[length + c] + dy[2 * length + c] + dy[3 * length + c], dBeta[c], 5);
        var first = dGamma.ToArray();
        LayerNormalizationBackwardKernels.Backward(x, dy, gamma, length, 1e-3, default, dGamma, default, new RowRange(0, 4), accumulate: false);
        for (int c = 0; c < length; c++) Assert.Equal(2 * first[c], dGamma[c], 5);
        Assert.Throws<ArgumentException>(() => LayerNormalizationBackwardKernels.Backward(x, dy, gamma, 3, 1e-3, dx, default, default, new RowRange(0, 1), accumulate: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerNormalizationBackwardKernels.Backward(x, dy, gamma, length, 1e-3, dx, default, default, new RowRange(0, 5), accumulate: false));
    }
}
