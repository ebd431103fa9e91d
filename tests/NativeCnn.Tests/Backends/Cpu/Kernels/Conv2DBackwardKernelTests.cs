using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary><see cref="Conv2DBackwardKernels"/> at every SIMD width against <see cref="ReferenceBackward.Conv2DBackward"/>, itself checked by finite differences.</summary>
public class Conv2DBackwardKernelTests(ITestOutputHelper output)
{
    /// <summary>
    /// (batch, inH, inW, inC, outC, kh, kw, stride, dilation, same): odd sizes with stride 2 ('same' pads bottom/right),
    /// valid windows that leave input pixels uncovered, dilation, pointwise, channels not multiples of the widths.
    /// </summary>
    public static readonly (int N, int H, int W, int C, int F, int KH, int KW, int S, int D, bool Same)[] Shapes =
    [
        (2, 7, 6, 3, 5, 3, 3, 1, 1, true),
        (2, 9, 8, 5, 17, 3, 3, 2, 1, true),
        (3, 8, 7, 2, 4, 5, 5, 2, 1, false),
        (1, 10, 9, 3, 6, 3, 3, 1, 2, true),
        (2, 5, 6, 19, 33, 1, 1, 1, 1, false),
        // Pointwise with more pixels than a product tile (64), not a multiple of 4, and channels past three vectors plus a tail.
        (2, 9, 11, 53, 50, 1, 1, 1, 1, false),
        (1, 9, 8, 17, 40, 1, 1, 1, 1, false),
        (1, 5, 13, 43, 9, 1, 1, 1, 1, false),
        (2, 6, 7, 4, 9, 1, 1, 2, 1, false),
        (1, 7, 8, 3, 8, 2, 2, 3, 1, false),
        (2, 6, 5, 7, 70, 3, 1, 1, 1, true),
        (1, 5, 7, 20, 3, 1, 5, 2, 1, true),
    ];

    internal static Conv2DParams Params(in ReferenceWindow g, int outC) =>
        new(g.Batch, g.InH, g.InW, g.InC, g.OutH, g.OutW, outC, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PadTop, g.PadLeft);

    [Theory]
    [InlineData(2, 5, 4, 2, 3, 3, 1, 1, true)]
    [InlineData(1, 7, 6, 2, 2, 3, 2, 1, true)]
    [InlineData(2, 6, 7, 3, 2, 2, 2, 2, false)]
    public void ReferenceMatchesFiniteDifferences(int n, int h, int w, int c, int f, int k, int s, int d, bool same)
    {
        var g = ReferenceWindow.Create(n, h, w, c, k, k, s, s, d, d, same);
        var x = ReferenceBackward.D(TestData.Uniform(1, n * h * w * c));
        var kernel = ReferenceBackward.D(TestData.Uniform(2, k * k * c * f));
        var bias = ReferenceBackward.D(TestData.Uniform(3, f));
        var dy = ReferenceBackward.D(TestData.Uniform(4, n * g.OutH * g.OutW * f));
        var (dx, dw, db) = ReferenceBackward.Conv2DBackward(x, kernel, dy, g, f);
        ReferenceBackward.AssertMatchesFiniteDifference(dx, ReferenceBackward.FiniteDifference(x, dy, v => ReferenceBackward.Conv2D(v, kernel, bias, g, f)), "dX");
        ReferenceBackward.AssertMatchesFiniteDifference(dw, ReferenceBackward.FiniteDifference(kernel, dy, v => ReferenceBackward.Conv2D(x, v, bias, g, f)), "dW");
        ReferenceBackward.AssertMatchesFiniteDifference(db, ReferenceBackward.FiniteDifference(bias, dy, v => ReferenceBackward.Conv2D(x, kernel, v, g, f)), "dB");
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void GradientsMatchReference(SimdWidth width)
    {
        double worst = 0;
        foreach (var (n, h, w, c, f, kh, kw, s, d, same) in Shapes)
        {
            var g = ReferenceWindow.Create(n, h, w, c, kh, kw, s, s, d, d, same);
            var p = Params(g, f);
            var x = TestData.Uniform(h * 31 + c, n * h * w * c);
            var kernel = TestData.Uniform(f * 17 + kh, kh * kw * c * f);
            var dy = TestData.Uniform(f * 5 + w, n * g.OutH * g.OutW * f);
            var (edx, edw, edb) = ReferenceBackward.Conv2DBackward(ReferenceBackward.D(x), ReferenceBackward.D(kernel), ReferenceBackward.D(dy), g, f);
            string what = $"{p} at {width}";

            var transposed = new float[kernel.Length];
            Conv2DBackwardKernels.TransposeKernel(kernel, transposed, p);
            var dx = DenseBackwardKernelTests.Filled(x.Length, float.NaN);
            for (int row = Conv2DBackwardKernels.InputRowCount(p) - 1; row >= 0; row--)
                Conv2DBackwardKernels.InputGradient(dy, transposed, dx, p, new RowRange(row, row + 1), accumulate: false, width);
            worst = Math.Max(worst, BackwardAssert.Close(edx, dx, BackwardAssert.Scale(edx), $"dX {what}"));
            var dx2 = DenseBackwardKernelTests.Filled(x.Length, 0.5f);
            Conv2DBackwardKernels.InputGradient(dy, transposed, dx2, p, RowRange.All(Conv2DBackwardKernels.InputRowCount(p)), accumulate: true, width);
            worst = Math.Max(worst, BackwardAssert.Close(edx.Select(v => v + 0.5).ToArray(), dx2, BackwardAssert.Scale(edx), $"dX += {what}"));

            // Two threads' partial sums: each its own gradient and workspace, then added.
            var workspace = DenseBackwardKernelTests.Filled(Conv2DBackwardKernels.WorkspaceLength(p), float.NaN);
            var dw = DenseBackwardKernelTests.Filled(kernel.Length, float.NaN);
            var partial = DenseBackwardKernelTests.Filled(kernel.Length, float.NaN);
            int split = p.RowCount / 2;
            Conv2DBackwardKernels.KernelGradient(x, dy, dw, workspace, p, new RowRange(0, split), accumulate: false, width);
            Conv2DBackwardKernels.KernelGradient(x, dy, partial, workspace, p, new RowRange(split, p.RowCount), accumulate: false, width);
            for (int i = 0; i < dw.Length; i++) dw[i] += partial[i];
            worst = Math.Max(worst, BackwardAssert.Close(edw, dw, BackwardAssert.Scale(edw), $"dW {what}"));
            // And accumulation of the second half onto the first.
            Conv2DBackwardKernels.KernelGradient(x, dy, partial, workspace, p, new RowRange(0, split), accumulate: true, width);
            worst = Math.Max(worst, BackwardAssert.Close(edw, partial, BackwardAssert.Scale(edw), $"dW += {what}"));

            var db = DenseBackwardKernelTests.Filled(f, float.NaN);
            Conv2DBackwardKernels.BiasGradient(dy, db, p, new RowRange(0, split), accumulate: false, width);
            Conv2DBackwardKernels.BiasGradient(dy, db, p, new RowRange(split, p.RowCount), accumulate: true, width);
            worst = Math.Max(worst, BackwardAssert.Close(edb, db, BackwardAssert.Scale(edb), $"dB {what}"));
        }
        output.WriteLine($"max relative error {worst:E3}");
    }

    [Fact]
    public void WrongLengthsThrow()
    {
        var g = ReferenceWindow.Create(1, 5, 5, 2, 3, 3, 1, 1, 1, 1, true);
        var p = Params(g, 3);
        Assert.Throws<ArgumentException>(() => Conv2DBackwardKernels.InputGradient(new float[75], new float[54], new float[49], p, RowRange.All(5), false));
        Assert.Throws<ArgumentException>(() => Conv2DBackwardKernels.InputGradient(new float[75], new float[53], new float[50], p, RowRange.All(5), false));
        Assert.Throws<ArgumentException>(() => Conv2DBackwardKernels.KernelGradient(new float[50], new float[75], new float[54], new float[Conv2DBackwardKernels.WorkspaceLength(p) - 1], p, RowRange.All(5), false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Conv2DBackwardKernels.KernelGradient(new float[50], new float[75], new float[54], new float[90], p, new RowRange(0, 6), false));
        Assert.Throws<ArgumentException>(() => Conv2DBackwardKernels.BiasGradient(new float[75], new float[2], p, RowRange.All(5), false));
    }
}
