using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary><see cref="DepthwiseConv2DBackwardKernels"/> at every SIMD width against <see cref="ReferenceBackward.DepthwiseBackward"/>, itself checked by finite differences.</summary>
public class DepthwiseConv2DBackwardKernelTests(ITestOutputHelper output)
{
    /// <summary>(batch, inH, inW, channels, multiplier, k, stride, dilation, same).</summary>
    private static readonly (int N, int H, int W, int C, int M, int K, int S, int D, bool Same)[] s_shapes =
    [
        (2, 7, 6, 3, 1, 3, 1, 1, true),
        (2, 9, 8, 17, 1, 3, 2, 1, true),
        (3, 8, 7, 33, 1, 5, 2, 1, false),
        (1, 10, 9, 5, 1, 3, 1, 2, true),
        (2, 7, 7, 3, 2, 3, 2, 1, true),
        (1, 6, 8, 4, 3, 5, 1, 1, false),
        (2, 11, 9, 40, 1, 5, 2, 1, true),
        (1, 7, 8, 9, 1, 2, 3, 1, false),
    ];

    internal static DepthwiseConv2DParams Params(in ReferenceWindow g, int m) =>
        new(g.Batch, g.InH, g.InW, g.InC, g.OutH, g.OutW, m, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PadTop, g.PadLeft);

    [Theory]
    [InlineData(2, 5, 4, 3, 1, 3, 1, 1, true)]
    [InlineData(1, 7, 6, 2, 2, 3, 2, 1, true)]
    [InlineData(2, 6, 7, 3, 1, 2, 2, 2, false)]
    public void ReferenceMatchesFiniteDifferences(int n, int h, int w, int c, int m, int k, int s, int d, bool same)
    {
        var g = ReferenceWindow.Create(n, h, w, c, k, k, s, s, d, d, same);
        var x = ReferenceBackward.D(TestData.Uniform(1, n * h * w * c));
        var kernel = ReferenceBackward.D(TestData.Uniform(2, k * k * c * m));
        var bias = ReferenceBackward.D(TestData.Uniform(3, c * m));
        var dy = ReferenceBackward.D(TestData.Uniform(4, n * g.OutH * g.OutW * c * m));
        var (dx, dw, db) = ReferenceBackward.DepthwiseBackward(x, kernel, dy, g, m);
        ReferenceBackward.AssertMatchesFiniteDifference(dx, ReferenceBackward.FiniteDifference(x, dy, v => ReferenceBackward.Depthwise(v, kernel, bias, g, m)), "dX");
        ReferenceBackward.AssertMatchesFiniteDifference(dw, ReferenceBackward.FiniteDifference(kernel, dy, v => ReferenceBackward.Depthwise(x, v, bias, g, m)), "dW");
        ReferenceBackward.AssertMatchesFiniteDifference(db, ReferenceBackward.FiniteDifference(bias, dy, v => ReferenceBackward.Depthwise(x, kernel, v, g, m)), "dB");
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void GradientsMatchReference(SimdWidth width)
    {
        double worst = 0;
        foreach (var (n, h, w, c, m, k, s, d, same) in s_shapes)
        {
            var g = ReferenceWindow.Create(n, h, w, c, k, k, s, s, d, d, same);
            var p = Params(g, m);
            var x = TestData.Uniform(h * 31 + c, n * h * w * c);
            var kernel = TestData.Uniform(m * 17 + k, k * k * c * m);
            var dy = TestData.Uniform(c * 5 + w, n * g.OutH * g.OutW * c * m);
            var (edx, edw, edb) = ReferenceBackward.DepthwiseBackward(ReferenceBackward.D(x), ReferenceBackward.D(kernel), ReferenceBackward.D(dy), g, m);
            string what = $"{p} at {width}";

            var dx = DenseBackwardKernelTests.Filled(x.Length, float.NaN);
            for (int row = DepthwiseConv2DBackwardKernels.InputRowCount(p) - 1; row >= 0; row--)
                DepthwiseConv2DBackwardKernels.InputGradient(dy, kernel, dx, p, new RowRange(row, row + 1), accumulate: false, width);
            worst = Math.Max(worst, BackwardAssert.Close(edx, dx, BackwardAssert.Scale(edx), $"dX {what}"));
            var dx2 = DenseBackwardKernelTests.Filled(x.Length, 0.5f);
            DepthwiseConv2DBackwardKernels.InputGradient(dy, kernel, dx2, p, RowRange.All(DepthwiseConv2DBackwardKernels.InputRowCount(p)), accumulate: true, width);
            worst = Math.Max(worst, BackwardAssert.Close(edx.Select(v => v + 0.5).ToArray(), dx2, BackwardAssert.Scale(edx), $"dX += {what}"));

            var dw = DenseBackwardKernelTests.Filled(kernel.Length, float.NaN);
            var partial = DenseBackwardKernelTests.Filled(kernel.Length, float.NaN);
            int split = p.RowCount / 2;
            DepthwiseConv2DBackwardKernels.KernelGradient(x, dy, dw, p, new RowRange(0, split), accumulate: false, width);
            DepthwiseConv2DBackwardKernels.KernelGradient(x, dy, partial, p, new RowRange(split, p.RowCount), accumulate: false, width);
            for (int i = 0; i < dw.Length; i++) dw[i] += partial[i];
            worst = Math.Max(worst, BackwardAssert.Close(edw, dw, BackwardAssert.Scale(edw), $"dW {what}"));
            DepthwiseConv2DBackwardKernels.KernelGradient(x, dy, partial, p, new RowRange(0, split), accumulate: true, width);
            worst = Math.Max(worst, BackwardAssert.Close(edw, partial, BackwardAssert.Scale(edw), $"dW += {what}"));

            var db = DenseBackwardKernelTests.Filled(c * m, float.NaN);
            DepthwiseConv2DBackwardKernels.BiasGradient(dy, db, p, RowRange.All(p.RowCount), accumulate: false, width);
            worst = Math.Max(worst, BackwardAssert.Close(edb, db, BackwardAssert.Scale(edb), $"dB {what}"));
        }
        output.WriteLine($"max relative error {worst:E3}");
    }
}
