using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary><see cref="PoolingBackwardKernels"/> at every SIMD width against <see cref="ReferencePooling"/>, itself checked by finite differences.</summary>
public class PoolingBackwardKernelTests(ITestOutputHelper output)
{
    /// <summary>(batch, h, w, channels, pool, stride, same): overlapping windows, odd sizes with stride 2, channels off the widths.</summary>
    private static readonly (int N, int H, int W, int C, int K, int S, bool Same)[] s_shapes =
    [
        (2, 7, 6, 3, 3, 2, true), (2, 8, 9, 17, 2, 2, false), (3, 5, 7, 33, 3, 1, true), (1, 9, 8, 5, 3, 2, false), (2, 6, 6, 16, 2, 1, true),
        (1, 7, 7, 20, 5, 3, true),
    ];

    private static Pooling2DParams Params(ReferenceWindow g, bool paddedZeros = false) =>
        new(g.Batch, g.InH, g.InW, g.InC, g.OutH, g.OutW, g.KH, g.KW, g.SH, g.SW, g.PadTop, g.PadLeft, paddedZeros);

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void ReferenceMatchesFiniteDifferences(bool max, bool same)
    {
        var g = ReferenceWindow.Create(2, 5, 6, 2, 3, 3, 2, 2, 1, 1, same);
        // Distinct values, so no maximum ties within a finite-difference step.
        var x = ReferenceBackward.D(TestData.Uniform(3, g.Batch * g.InH * g.InW * g.InC));
        var dy = ReferenceBackward.D(TestData.Uniform(4, g.Batch * g.OutH * g.OutW * g.InC));
        ReferenceBackward.AssertMatchesFiniteDifference(ReferencePooling.Backward(x, dy, g, max),
            ReferenceBackward.FiniteDifference(x, dy, v => ReferencePooling.Forward(v, g, max), h: 1e-7), max ? "max" : "average");
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void WindowGradientsMatchReference(SimdWidth width)
    {
        double worst = 0;
        foreach (var (n, h, w, c, k, s, same) in s_shapes)
        {
            var g = ReferenceWindow.Create(n, h, w, c, k, k, s, s, 1, 1, same);
            var dy = TestData.Uniform(c * 7 + h, g.Batch * g.OutH * g.OutW * c);
            foreach (bool ties in new[] { false, true })
            {
                // Small integers make ties everywhere: the first maximum (row-major) must take the gradient.
                var x = ties ? TestData.Uniform(h + c, n * h * w * c, 0f, 3f).Select(MathF.Floor).ToArray() : TestData.Uniform(h + c, n * h * w * c);
                foreach (bool paddedZeros in same ? new[] { false, true } : [false])
                {
                    var p = Params(g, paddedZeros);
                    var expected = ReferencePooling.Backward(ReferenceBackward.D(x), ReferenceBackward.D(dy), g, max: true, paddedZeros);
                    var dx = DenseBackwardKernelTests.Filled(x.Length, float.NaN);
                    for (int row = PoolingBackwardKernels.InputRowCount(p) - 1; row >= 0; row--)
                        PoolingBackwardKernels.MaxPool(x, dy, dx, p, new RowRange(row, row + 1), width);
                    worst = Math.Max(worst, BackwardAssert.Close(expected, dx, 1.0, $"max {p} ties {ties} at {width}"));
                }
            }
            var pa = Params(g);
            var expectedAverage = ReferencePooling.Backward(new double[n * h * w * c], ReferenceBackward.D(dy), g, max: false);
            var da = DenseBackwardKernelTests.Filled(n * h * w * c, float.NaN);
            PoolingBackwardKernels.AveragePool(dy, da, pa, RowRange.All(PoolingBackwardKernels.InputRowCount(pa)), width);
            worst = Math.Max(worst, BackwardAssert.Close(expectedAverage, da, 1.0, $"average {pa} at {width}"));
        }
        output.WriteLine($"max relative error {worst:E3}");
    }

    [Fact]
    public void MaxPoolTiesGoToTheFirstMaximumAsPyTorch()
    {
        // torch.nn.functional.max_pool2d(x, 2, 1) on this 3x3 image, backward of ones (PyTorch 1.13):
        // [[0, 2, 0], [1, 0, 0], [0, 1, 0]].
        float[] x = [1, 3, 3, 3, 0, 1, 2, 3, 1];
        var p = new Pooling2DParams(1, 3, 3, 1, 2, 2, 2, 2, 1, 1, 0, 0);
        var dx = new float[9];
        PoolingBackwardKernels.MaxPool(x, [1, 1, 1, 1], dx, p, RowRange.All(3));
        Assert.Equal([0f, 2, 0, 1, 0, 0, 0, 1, 0], dx);
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void GlobalGradientsMatchReference(SimdWidth width)
    {
        foreach (var (pixels, channels) in new[] { (1, 1), (6, 3), (35, 17), (12, 33) })
        {
            var dy = TestData.Uniform(pixels + channels, channels);
            var da = DenseBackwardKernelTests.Filled(pixels * channels, float.NaN);
            PoolingBackwardKernels.GlobalAveragePool(dy, da, pixels);
            BackwardAssert.Close(Enumerable.Range(0, pixels * channels).Select(i => (double)dy[i % channels] / pixels).ToArray(), da, 1.0, $"global average {pixels}x{channels}");

            // Ties share the gradient evenly, as TensorFlow's reduce_max gradient does.
            var x = TestData.Uniform(pixels * channels, pixels * channels, 0f, 3f).Select(MathF.Floor).ToArray();
            var y = new float[channels];
            PoolingKernels.GlobalMaxPool(x, y, pixels);
            var dm = DenseBackwardKernelTests.Filled(pixels * channels, float.NaN);
            PoolingBackwardKernels.GlobalMaxPool(x, y, dy, dm, pixels, width);
            var expected = new double[pixels * channels];
            for (int c = 0; c < channels; c++)
            {
                int ties = Enumerable.Range(0, pixels).Count(q => x[q * channels + c] == y[c]);
                for (int q = 0; q < pixels; q++) expected[q * channels + c] = x[q * channels + c] == y[c] ? dy[c] / (double)ties : 0;
            }
            BackwardAssert.Close(expected, dm, 1.0, $"global max {pixels}x{channels} at {width}");
        }
    }

    [Fact]
    public void WrongLengthsThrow()
    {
        var p = new Pooling2DParams(1, 4, 4, 2, 2, 2, 2, 2, 2, 2, 0, 0);
        Assert.Throws<ArgumentException>(() => PoolingBackwardKernels.MaxPool(new float[31], new float[8], new float[32], p, RowRange.All(4)));
        Assert.Throws<ArgumentException>(() => PoolingBackwardKernels.AveragePool(new float[7], new float[32], p, RowRange.All(4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => PoolingBackwardKernels.AveragePool(new float[8], new float[32], p, RowRange.All(5)));
        Assert.Throws<ArgumentException>(() => PoolingBackwardKernels.GlobalMaxPool(new float[6], new float[3], new float[2], new float[6], 2));
    }
}
