using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary><see cref="DenseKernels"/> at every SIMD width and the default one, against float64 loops.</summary>
public class DenseKernelTests
{
    /// <summary>(batch, inputFeatures, units): units below, at and between multiples of 8/16/32/64.</summary>
    private static readonly (int Batch, int Features, int Units)[] s_shapes =
    [
        (1, 1, 1), (2, 7, 3), (2, 5, 8), (2, 17, 16), (3, 33, 17), (2, 9, 33), (2, 50, 70), (1, 20, 64), (1, 20, 130), (2, 64, 1000),
    ];

    public static TheoryData<SimdWidth, string, bool> Cases()
    {
        var data = new TheoryData<SimdWidth, string, bool>();
        foreach (var width in SimdSupport.AllWidthsAndAuto)
            foreach (string activation in new[] { "linear", "relu", "swish" })
            {
                data.Add(width, activation, true);
                data.Add(width, activation, false);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesReference(SimdWidth width, string activation, bool withBias)
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
            for (int n = 0; n < batch; n++) Run(width, byBlocks: false, activation, x, kernel, bias ?? [], y, p, new RowRange(n, n + 1));
            // A sum of `features` terms of magnitude ~1/3 has a typical size of √features / 3.
            Precision.AssertClose(expected, y, scale: Math.Max(1.0, Math.Sqrt(features)), what: $"{batch}x{features}→{units}");
        }
    }

    /// <summary>(batch, inputFeatures, units) for the work blocks: batch 1, 3 (no full group of four) and 8 (two groups),
    /// units below a vector, not a multiple of 16, one block with a remainder, and ResNet's 1000.</summary>
    private static readonly (int Batch, int Features, int Units)[] s_blockShapes =
    [
        (1, 9, 7), (3, 17, 33), (8, 20, 40), (1, 31, 127), (3, 20, 130), (8, 33, 200), (1, 64, 1000), (3, 40, 1000), (8, 65, 1000),
        (5, 7, 64), (4, 3, 15),
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardBlocksMatchesReference(SimdWidth width, string activation, bool withBias)
    {
        foreach (var (batch, features, units) in s_blockShapes)
        {
            var x = TestData.Uniform(seed: features * 10 + batch, batch * features);
            var kernel = TestData.Uniform(seed: units * 10 + features, features * units);
            float[]? bias = withBias ? TestData.Uniform(seed: units, units) : null;
            var expected = ReferenceElementwise.Dense(ReferenceElementwise.ToDouble(x), batch, features, kernel, bias, units,
                ReferenceElementwise.Activation(activation));
            var p = new DenseParams(batch, features, units);
            var y = new float[batch * units];
            Array.Fill(y, float.NaN);
            // One call per block, in reverse so that no block leans on an earlier one's output.
            for (int block = p.BlockCount - 1; block >= 0; block--)
                Run(width, byBlocks: true, activation, x, kernel, bias ?? [], y, p, new RowRange(block, block + 1));
            Precision.AssertClose(expected, y, scale: Math.Max(1.0, Math.Sqrt(features)), what: $"{batch}x{features}→{units}");
        }
    }

    [Theory]
    [InlineData(1, 1000, 15)]  // ResNet's predictions: 15 blocks, the last 104 units wide
    [InlineData(8, 1000, 30)]
    [InlineData(3, 63, 1)]
    [InlineData(9, 128, 6)]
    public void BlocksCoverUnitsAndRows(int batch, int units, int blockCount)
    {
        var p = new DenseParams(batch, 4, units);
        Assert.Equal(blockCount, p.BlockCount);
    }

    [Fact]
    public void RejectsBadShapes()
    {
        var p = new DenseParams(2, 3, 4);
        Assert.Throws<ArgumentException>(() => DenseKernels.Forward(new float[6], new float[11], [], new float[8], p, new IdentityActivation(), RowRange.All(2)));
        Assert.Throws<ArgumentException>(() => DenseKernels.Forward(new float[6], new float[12], new float[3], new float[8], p, new IdentityActivation(), RowRange.All(2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => DenseKernels.Forward(new float[6], new float[12], [], new float[8], p, new IdentityActivation(), new RowRange(1, 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => DenseKernels.ForwardBlocks(new float[6], new float[12], [], new float[8], p, new IdentityActivation(), new RowRange(0, 2)));
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

    /// <summary>Rows of the kernel at one SIMD width, by work block or by batch row.</summary>
    private static void Run(SimdWidth width, bool byBlocks, string activation, float[] x, float[] k, float[] b, float[] y, DenseParams p, RowRange rows)
    {
        switch (activation)
        {
            case "linear": Run(width, byBlocks, x, k, b, y, p, new IdentityActivation(), rows); break;
            case "relu": Run(width, byBlocks, x, k, b, y, p, new ReluActivation(), rows); break;
            default: Run(width, byBlocks, x, k, b, y, p, new SwishActivation(), rows); break;
        }
    }

    private static void Run<T>(SimdWidth width, bool byBlocks, float[] x, float[] k, float[] b, float[] y, DenseParams p, T activation, RowRange rows)
        where T : struct, IActivation
    {
        if (byBlocks) DenseKernels.ForwardBlocks(x, k, b, y, p, activation, rows, width);
        else DenseKernels.Forward(x, k, b, y, p, activation, rows, width);
    }
}
