using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary><see cref="DenseBackwardKernels"/> at every SIMD width against <see cref="ReferenceBackward.DenseBackward"/>, itself checked by finite differences.</summary>
public class DenseBackwardKernelTests(ITestOutputHelper output)
{
    /// <summary>(batch, features, units): units below, between and past the vector widths and the 4-vector blocks.</summary>
    private static readonly (int Batch, int Features, int Units)[] s_shapes =
        [(1, 1, 1), (2, 7, 3), (3, 17, 33), (2, 64, 70), (3, 5, 130), (2, 33, 16)];

    [Fact]
    public void ReferenceMatchesFiniteDifferences()
    {
        const int batch = 2, features = 5, units = 3;
        var x = ReferenceBackward.D(TestData.Uniform(1, batch * features));
        var w = ReferenceBackward.D(TestData.Uniform(2, features * units));
        var b = ReferenceBackward.D(TestData.Uniform(3, units));
        var dy = ReferenceBackward.D(TestData.Uniform(4, batch * units));
        var (dx, dw, db) = ReferenceBackward.DenseBackward(x, w, dy, batch, features, units);
        ReferenceBackward.AssertMatchesFiniteDifference(dx, ReferenceBackward.FiniteDifference(x, dy, v => ReferenceBackward.Dense(v, w, b, batch, features, units)), "dX");
        ReferenceBackward.AssertMatchesFiniteDifference(dw, ReferenceBackward.FiniteDifference(w, dy, v => ReferenceBackward.Dense(x, v, b, batch, features, units)), "dW");
        ReferenceBackward.AssertMatchesFiniteDifference(db, ReferenceBackward.FiniteDifference(b, dy, v => ReferenceBackward.Dense(x, w, v, batch, features, units)), "dB");
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void GradientsMatchReference(SimdWidth width)
    {
        double worst = 0;
        foreach (var (batch, features, units) in s_shapes)
        {
            var x = TestData.Uniform(batch * 100 + features, batch * features);
            var w = TestData.Uniform(units * 100 + features, features * units);
            var dy = TestData.Uniform(units * 7 + batch, batch * units);
            var (edx, edw, edb) = ReferenceBackward.DenseBackward(ReferenceBackward.D(x), ReferenceBackward.D(w), ReferenceBackward.D(dy), batch, features, units);
            var p = new DenseParams(batch, features, units);
            string what = $"{batch}x{features}->{units} at {width}";

            var dx = Filled(batch * features, float.NaN);
            for (int n = 0; n < batch; n++) DenseBackwardKernels.InputGradient(dy, w, dx, p, new RowRange(n, n + 1), accumulate: false, width);
            worst = Math.Max(worst, BackwardAssert.Close(edx, dx, BackwardAssert.Scale(edx), $"dX {what}"));

            // Two disjoint feature ranges, as two threads would split them.
            var dw = Filled(features * units, float.NaN);
            int half = features / 2;
            DenseBackwardKernels.KernelGradient(x, dy, dw, p, new RowRange(half, features), accumulate: false, width);
            DenseBackwardKernels.KernelGradient(x, dy, dw, p, new RowRange(0, half), accumulate: false, width);
            worst = Math.Max(worst, BackwardAssert.Close(edw, dw, BackwardAssert.Scale(edw), $"dW {what}"));

            var db = Filled(units, float.NaN);
            DenseBackwardKernels.BiasGradient(dy, db, batch, accumulate: false, width);
            worst = Math.Max(worst, BackwardAssert.Close(edb, db, BackwardAssert.Scale(edb), $"dB {what}"));

            // Accumulation adds onto what is there.
            var dx2 = Filled(batch * features, 0.5f);
            DenseBackwardKernels.InputGradient(dy, w, dx2, p, RowRange.All(batch), accumulate: true, width);
            worst = Math.Max(worst, BackwardAssert.Close(edx.Select(v => v + 0.5).ToArray(), dx2, BackwardAssert.Scale(edx), $"dX += {what}"));
            var dw2 = Filled(features * units, 0.25f);
            DenseBackwardKernels.KernelGradient(x, dy, dw2, p, RowRange.All(features), accumulate: true, width);
            worst = Math.Max(worst, BackwardAssert.Close(edw.Select(v => v + 0.25).ToArray(), dw2, BackwardAssert.Scale(edw), $"dW += {what}"));
            var db2 = Filled(units, -1f);
            DenseBackwardKernels.BiasGradient(dy, db2, batch, accumulate: true, width);
            worst = Math.Max(worst, BackwardAssert.Close(edb.Select(v => v - 1).ToArray(), db2, BackwardAssert.Scale(edb), $"dB += {what}"));
        }
        output.WriteLine($"max relative error {worst:E3}");
    }

    [Fact]
    public void WrongLengthsThrow()
    {
        var p = new DenseParams(2, 3, 4);
        Assert.Throws<ArgumentException>(() => DenseBackwardKernels.InputGradient(new float[7], new float[12], new float[6], p, RowRange.All(2), false));
        Assert.Throws<ArgumentException>(() => DenseBackwardKernels.KernelGradient(new float[6], new float[8], new float[11], p, RowRange.All(3), false));
        Assert.Throws<ArgumentOutOfRangeException>(() => DenseBackwardKernels.KernelGradient(new float[6], new float[8], new float[12], p, new RowRange(0, 4), false));
        Assert.Throws<ArgumentException>(() => DenseBackwardKernels.BiasGradient(new float[7], new float[4], 2, false));
    }

    internal static float[] Filled(int length, float value)
    {
        var a = new float[length];
        Array.Fill(a, value);
        return a;
    }
}
