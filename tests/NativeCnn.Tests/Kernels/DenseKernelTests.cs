using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Kernels;

/// <summary><see cref="DenseKernels"/> at both vector widths and through the public entry, against float64 loops.</summary>
public class DenseKernelTests
{
    /// <summary>(batch, inputFeatures, units): units below, at and between multiples of 8/16/32/64.</summary>
    private static readonly (int Batch, int Features, int Units)[] s_shapes =
    [
        (1, 1, 1), (2, 7, 3), (2, 5, 8), (2, 17, 16), (3, 33, 17), (2, 9, 33), (2, 50, 70), (1, 20, 64), (1, 20, 130), (2, 64, 1000),
    ];

    public static TheoryData<int, string, bool> Cases()
    {
        var data = new TheoryData<int, string, bool>();
        foreach (int width in new[] { 512, 256, 0 })
            foreach (string activation in new[] { "linear", "relu", "swish" })
            {
                data.Add(width, activation, true);
                data.Add(width, activation, false);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesReference(int width, string activation, bool withBias)
    {
        foreach (var (batch, features, units) in s_shapes)
        {
            var x = TestData.Uniform(seed: features * 10 + batch, batch * features);
            var kernel = TestData.Uniform(seed: units * 10 + features, features * units);
            float[]? bias = withBias ? TestData.Uniform(seed: units, units) : null;
            var expected = ReferenceElementwise.Dense(ReferenceElementwise.ToDouble(x), batch, features, kernel, bias, units,
                ReferenceElementwise.Activation(activation));
            var p = new DenseParams(batch, features, units);
            var y = new float[batch * units];
            Array.Fill(y, float.NaN);
            // One call per batch row, as a worker pool splits it.
            for (int n = 0; n < batch; n++) Forward(width, activation, x, kernel, bias ?? [], y, p, new RowRange(n, n + 1));
            // A sum of `features` terms of magnitude ~1/3 has a typical size of √features / 3.
            Precision.AssertClose(expected, y, scale: Math.Max(1.0, Math.Sqrt(features)), what: $"{batch}x{features}→{units}");
        }
    }

    [Fact]
    public void RejectsBadShapes()
    {
        var p = new DenseParams(2, 3, 4);
        Assert.Throws<ArgumentException>(() => DenseKernels.Forward(new float[6], new float[11], [], new float[8], p, new IdentityActivation(), RowRange.All(2)));
        Assert.Throws<ArgumentException>(() => DenseKernels.Forward(new float[6], new float[12], new float[3], new float[8], p, new IdentityActivation(), RowRange.All(2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => DenseKernels.Forward(new float[6], new float[12], [], new float[8], p, new IdentityActivation(), new RowRange(1, 3)));
    }

    [Fact]
    public void ForwardDoesNotAllocate()
    {
        var p = new DenseParams(2, 33, 70);
        var x = TestData.Uniform(seed: 1, 2 * 33);
        var k = TestData.Uniform(seed: 2, 33 * 70);
        var b = TestData.Uniform(seed: 3, 70);
        var y = new float[2 * 70];
        DenseKernels.Forward(x, k, b, y, p, new SwishActivation(), RowRange.All(2));
        long before = GC.GetAllocatedBytesForCurrentThread();
        DenseKernels.Forward(x, k, b, y, p, new SwishActivation(), RowRange.All(2));
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    private static void Forward(int width, string activation, float[] x, float[] k, float[] b, float[] y, DenseParams p, RowRange rows)
    {
        switch (activation)
        {
            case "linear": Forward(width, x, k, b, y, p, new IdentityActivation(), rows); break;
            case "relu": Forward(width, x, k, b, y, p, new ReluActivation(), rows); break;
            default: Forward(width, x, k, b, y, p, new SwishActivation(), rows); break;
        }
    }

    private static void Forward<T>(int width, float[] x, float[] k, float[] b, float[] y, DenseParams p, T activation, RowRange rows)
        where T : struct, IActivation
    {
        if (width == 512) DenseKernels.ForwardVector512(x, k, b, y, p, activation, rows);
        else if (width == 256) DenseKernels.ForwardVector256(x, k, b, y, p, activation, rows);
        else DenseKernels.Forward(x, k, b, y, p, activation, rows);
    }
}
