using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>
/// <see cref="ElementwiseBackwardKernels"/> at every SIMD width: against float64 loops, and the copy ops by the adjoint
/// (dot-product) test <c>⟨F(x), g⟩ = ⟨x, Fᵀ(g)⟩</c> against their forward kernels.
/// </summary>
public class ElementwiseBackwardKernelTests
{
    private static double Dot(float[] a, float[] b) => ReferenceBackward.Dot(ReferenceBackward.D(a), ReferenceBackward.D(b));

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void AddAccumulateAndMultiplyMatchReference(SimdWidth width)
    {
        foreach (int length in Enumerable.Range(0, 68).Append(1000))
        {
            var dy = TestData.Uniform(length, length);
            var a = TestData.Uniform(length + 1, length);
            var b = TestData.Uniform(length + 2, length);
            var sum = DenseBackwardKernelTests.Filled(length, 0.5f);
            ElementwiseBackwardKernels.Accumulate(dy, sum, width);
            BackwardAssert.Close(dy.Select(v => v + 0.5).ToArray(), sum, 1.0, $"accumulate {length}");
            var copy = DenseBackwardKernelTests.Filled(length, float.NaN);
            ElementwiseBackwardKernels.Add(dy, copy, accumulate: false, width);
            Assert.Equal(dy, copy);

            var da = DenseBackwardKernelTests.Filled(length, float.NaN);
            var db = DenseBackwardKernelTests.Filled(length, 1f);
            ElementwiseBackwardKernels.Multiply(dy, a, b, da, [], accumulate: false, width);
            ElementwiseBackwardKernels.Multiply(dy, a, b, [], db, accumulate: true, width);
            BackwardAssert.Close(dy.Select((g, i) => (double)g * b[i]).ToArray(), da, 1.0, $"dA {length}");
            BackwardAssert.Close(dy.Select((g, i) => 1 + (double)g * a[i]).ToArray(), db, 1.0, $"dB += {length}");
        }
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void ChannelMultiplyMatchesReference(SimdWidth width)
    {
        foreach (var (pixels, channels) in new[] { (1, 1), (7, 3), (35, 17), (12, 33), (4, 64) })
        {
            var x = TestData.Uniform(pixels, pixels * channels);
            var s = TestData.Uniform(channels, channels, 0f, 1f);
            var dy = TestData.Uniform(pixels + channels, pixels * channels);
            var eDx = new double[x.Length];
            var eDs = new double[channels];
            for (int p = 0; p < pixels; p++)
                for (int c = 0; c < channels; c++)
                {
                    eDx[p * channels + c] = (double)dy[p * channels + c] * s[c];
                    eDs[c] += (double)dy[p * channels + c] * x[p * channels + c];
                }
            // The reference is the gradient of Σ dy·(x·s): check it by finite differences on the scale.
            var fd = ReferenceBackward.FiniteDifference(ReferenceBackward.D(s), ReferenceBackward.D(dy),
                v => Enumerable.Range(0, x.Length).Select(i => x[i] * v[i % channels]).ToArray());
            ReferenceBackward.AssertMatchesFiniteDifference(eDs, fd, "dS reference");

            var dx = DenseBackwardKernelTests.Filled(x.Length, float.NaN);
            var ds = DenseBackwardKernelTests.Filled(channels, float.NaN);
            ElementwiseBackwardKernels.MultiplyByChannel(dy, x, s, dx, ds, accumulate: false, width);
            BackwardAssert.Close(eDx, dx, 1.0, $"dX {pixels}x{channels}");
            BackwardAssert.Close(eDs, ds, BackwardAssert.Scale(eDs), $"dS {pixels}x{channels}");
            ElementwiseBackwardKernels.MultiplyByChannel(dy, x, s, dx, ds, accumulate: true, width);
            BackwardAssert.Close(eDx.Select(v => 2 * v).ToArray(), dx, 2.0, $"dX += {pixels}x{channels}");
            BackwardAssert.Close(eDs.Select(v => 2 * v).ToArray(), ds, 2 * BackwardAssert.Scale(eDs), $"dS += {pixels}x{channels}");
        }
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void CopyOpsAreAdjointsOfTheirForwardKernels(SimdWidth width)
    {
        // ZeroPadding2D (asymmetric) and its gradient; Cropping2D's gradient is the same zero pad.
        var pad = new ZeroPadding2DParams(2, 5, 4, 3, new Padding2D(1, 2, 0, 3));
        var x = TestData.Uniform(1, 2 * 5 * 4 * 3);
        var padded = new float[2 * pad.OutputHeight * pad.OutputWidth * 3];
        PoolingKernels.ZeroPad(x, padded, pad, RowRange.All(pad.RowCount));
        var g = TestData.Uniform(2, padded.Length);
        var dx = DenseBackwardKernelTests.Filled(x.Length, float.NaN);
        ElementwiseBackwardKernels.ZeroPadding2D(g, dx, pad, RowRange.All(2 * 5), accumulate: false, width);
        Assert.Equal(Dot(padded, g), Dot(x, dx), 10);
        var dxAcc = DenseBackwardKernelTests.Filled(x.Length, 1f);
        ElementwiseBackwardKernels.ZeroPadding2D(g, dxAcc, pad, RowRange.All(2 * 5), accumulate: true, width);
        BackwardAssert.Close(dx.Select(v => v + 1.0).ToArray(), dxAcc, 1.0, "zero padding +=");
        var dCrop = DenseBackwardKernelTests.Filled(padded.Length, float.NaN);
        ElementwiseBackwardKernels.Cropping2D(dx, dCrop, pad, RowRange.All(pad.RowCount));
        // Cropping the padded gradient g gives dx; Cropping2D's gradient of dx must be ⟨crop(g), dx⟩ = ⟨g, dCrop⟩.
        Assert.Equal(Dot(dx, dx), Dot(g, dCrop), 10);

        // UpSampling2D nearest.
        var up = new UpSampling2DParams(2, 3, 5, 19, 2, 3);
        var u = TestData.Uniform(3, 2 * 3 * 5 * 19);
        var upsampled = new float[2 * up.OutputHeight * up.OutputWidth * 19];
        ResamplingKernels.Nearest(u, upsampled, up, RowRange.All(up.RowCount));
        var gu = TestData.Uniform(4, upsampled.Length);
        var du = DenseBackwardKernelTests.Filled(u.Length, float.NaN);
        for (int row = 2 * 3 - 1; row >= 0; row--)
            ElementwiseBackwardKernels.UpSampling2DNearest(gu, du, up, new RowRange(row, row + 1), accumulate: false, width);
        Assert.Equal(Dot(upsampled, gu), Dot(u, du), 5);
        var expected = new double[u.Length];
        for (int n = 0; n < 2; n++)
        for (int y = 0; y < up.OutputHeight; y++)
        for (int xx = 0; xx < up.OutputWidth; xx++)
        for (int c = 0; c < 19; c++)
            expected[((n * 3 + y / 2) * 5 + xx / 3) * 19 + c] += gu[((n * up.OutputHeight + y) * up.OutputWidth + xx) * 19 + c];
        BackwardAssert.Close(expected, du, 1.0, "upsampling");

        // Concatenate along channels: 5 + 17 channels.
        int pixels = 6;
        var gc = TestData.Uniform(5, pixels * 22);
        var first = DenseBackwardKernelTests.Filled(pixels * 5, float.NaN);
        var second = DenseBackwardKernelTests.Filled(pixels * 17, 2f);
        ElementwiseBackwardKernels.ConcatenateChannels(gc, first, pixels, 22, 0, accumulate: false, width);
        ElementwiseBackwardKernels.ConcatenateChannels(gc, second, pixels, 22, 5, accumulate: true, width);
        for (int p = 0; p < pixels; p++)
        {
            for (int c = 0; c < 5; c++) Assert.Equal(gc[p * 22 + c], first[p * 5 + c]);
            for (int c = 0; c < 17; c++) Assert.Equal(gc[p * 22 + 5 + c] + 2f, second[p * 17 + c]);
        }
    }

    [Fact]
    public void DropoutMaskIsSeededSplittableAndInverted()
    {
        const float rate = 0.3f;
        var mask = new float[100_000];
        ElementwiseBackwardKernels.DropoutMask(mask, rate, seed: 20261203, offset: 0);
        float scale = 1f / (1f - rate);
        Assert.All(mask, v => Assert.True(v == 0f || v == scale, $"mask value {v}"));
        double kept = mask.Count(v => v != 0) / (double)mask.Length;
        // Binomial standard deviation √(0.21 / 1e5) ≈ 0.0014: five of them.
        Assert.InRange(kept, 0.7 - 0.007, 0.7 + 0.007);
        // The mean of x·mask stays the mean of x (inverted dropout).
        Assert.InRange(mask.Average(v => (double)v), 1 - 0.01, 1 + 0.01);

        // Two slices with their offsets draw what one call draws; another seed draws differently.
        var halves = new float[mask.Length];
        ElementwiseBackwardKernels.DropoutMask(halves.AsSpan(0, 12345), rate, 20261203, 0);
        ElementwiseBackwardKernels.DropoutMask(halves.AsSpan(12345), rate, 20261203, 12345);
        Assert.Equal(mask, halves);
        var other = new float[mask.Length];
        ElementwiseBackwardKernels.DropoutMask(other, rate, 20261204, 0);
        Assert.NotEqual(mask, other);

        var zero = new float[10];
        ElementwiseBackwardKernels.DropoutMask(zero, 0f, 1, 0);
        Assert.All(zero, v => Assert.Equal(1f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => ElementwiseBackwardKernels.DropoutMask(zero, 1f, 1, 0));
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void DropoutAndDropConnectGradientsMultiplyByTheMask(SimdWidth width)
    {
        var dy = TestData.Uniform(7, 3 * 37);
        var mask = new float[dy.Length];
        ElementwiseBackwardKernels.DropoutMask(mask, 0.5f, 99, 0);
        var dx = DenseBackwardKernelTests.Filled(dy.Length, float.NaN);
        ElementwiseBackwardKernels.Dropout(dy, mask, dx, accumulate: false, width);
        Assert.Equal(dy.Select((g, i) => g * mask[i]), dx);

        // Drop-connect: one mask value per sample (noise_shape (N, 1, 1, 1)).
        var sampleMask = new float[3];
        ElementwiseBackwardKernels.DropoutMask(sampleMask, 0.2f, 5, 0);
        var dc = DenseBackwardKernelTests.Filled(dy.Length, 1f);
        ElementwiseBackwardKernels.MultiplyBySample(dy, sampleMask, dc, accumulate: true, width);
        Assert.Equal(dy.Select((g, i) => 1f + g * sampleMask[i / 37]), dc);
    }

    [Fact]
    public void WrongLengthsThrow()
    {
        Assert.Throws<ArgumentException>(() => ElementwiseBackwardKernels.Accumulate(new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => ElementwiseBackwardKernels.MultiplyByChannel(new float[7], new float[7], new float[3], new float[7], [], false));
        Assert.Throws<ArgumentException>(() => ElementwiseBackwardKernels.ConcatenateChannels(new float[12], new float[8], 2, 6, 3, false));
        Assert.Throws<ArgumentException>(() => ElementwiseBackwardKernels.MultiplyBySample(new float[7], new float[2], new float[7], false));
    }
}
