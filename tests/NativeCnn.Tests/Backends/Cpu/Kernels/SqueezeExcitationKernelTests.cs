using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary><see cref="SqueezeExcitationKernels"/> at every SIMD width and the default one, against float64 loops.</summary>
public class SqueezeExcitationKernelTests
{
    /// <summary>(pixels, channels, reduced): EfficientNet reduces by 4 (or 24 on the first block's input filters).</summary>
    private static readonly (int Pixels, int Channels, int Reduced)[] s_shapes =
    [
        (1, 1, 1), (12, 3, 1), (35, 7, 2), (35, 17, 4), (9, 33, 8), (20, 70, 5), (15, 96, 4), (4, 144, 6),
    ];

    public static TheoryData<SimdWidth, bool> Cases()
    {
        var data = new TheoryData<SimdWidth, bool>();
        foreach (var width in SimdSupport.AllWidthsAndAuto) { data.Add(width, false); data.Add(width, true); }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesReference(SimdWidth width, bool inPlace)
    {
        foreach (var (pixels, channels, reduced) in s_shapes)
        {
            var x = TestData.Uniform(seed: pixels * 100 + channels, pixels * channels, -3f, 3f);
            var reduceKernel = TestData.Uniform(seed: channels * 7 + 1, channels * reduced);
            var reduceBias = TestData.Uniform(seed: channels * 7 + 2, reduced);
            var expandKernel = TestData.Uniform(seed: channels * 7 + 3, reduced * channels);
            var expandBias = TestData.Uniform(seed: channels * 7 + 4, channels);
            var expected = ReferenceElementwise.SqueezeExcitation(x, pixels, channels, reduced, reduceKernel, reduceBias, expandKernel, expandBias,
                ReferenceElementwise.Activation("swish"));
            var p = new SqueezeExcitationParams(pixels, channels, reduced);
            // Scratch deliberately larger and dirty: the kernel must use only its first ScratchLength floats and overwrite them.
            var scratch = TestData.Uniform(seed: 5, p.ScratchLength + 3, 100f, 200f);
            var y = inPlace ? x : new float[x.Length];
            Forward(width, x, reduceKernel, reduceBias, expandKernel, expandBias, y, scratch, p);
            Precision.AssertClose(expected, y, scale: 3, what: $"{pixels}x{channels}/{reduced}{(inPlace ? " in place" : "")}");
        }
    }

    [Fact]
    public void PhasesMatchReferenceForEveryBlockCount()
    {
        foreach (var (pixels, channels, reduced) in s_shapes)
        {
            var x = TestData.Uniform(seed: pixels * 100 + channels, pixels * channels, -3f, 3f);
            var reduceKernel = TestData.Uniform(seed: channels * 7 + 1, channels * reduced);
            var reduceBias = TestData.Uniform(seed: channels * 7 + 2, reduced);
            var expandKernel = TestData.Uniform(seed: channels * 7 + 3, reduced * channels);
            var expandBias = TestData.Uniform(seed: channels * 7 + 4, channels);
            var expected = ReferenceElementwise.SqueezeExcitation(x, pixels, channels, reduced, reduceKernel, reduceBias, expandKernel, expandBias,
                ReferenceElementwise.Activation("swish"));
            var p = new SqueezeExcitationParams(pixels, channels, reduced);
            for (int blocks = 1; blocks <= Math.Min(pixels, 5); blocks++)
            {
                var partial = new float[blocks * channels];
                for (int b = 0; b < blocks; b++) SqueezeExcitationKernels.SqueezeBlock(x, partial.AsSpan(b * channels, channels), p, blocks, b);
                var excitation = new float[channels];
                SqueezeExcitationKernels.Excite(partial, reduceKernel, reduceBias, expandKernel, expandBias, new float[reduced], excitation, p, blocks,
                    new SwishActivation());
                var y = new float[x.Length];
                ElementwiseKernels.MultiplyByChannel(x, excitation, y);
                Precision.AssertClose(expected, y, scale: 3, what: $"{pixels}x{channels}/{reduced} in {blocks} blocks");
            }
        }
    }

    [Fact]
    public void PixelBlocksCoverEveryPixelOnce()
    {
        foreach (int pixels in new[] { 1, 2, 3, 7, 49, 50, 12544 })
        {
            for (int blocks = 1; blocks <= Math.Min(pixels, 6); blocks++)
            {
                int next = 0;
                for (int b = 0; b < blocks; b++)
                {
                    SqueezeExcitationKernels.PixelBlock(pixels, blocks, b, out int start, out int end);
                    Assert.Equal(next, start);
                    Assert.True(end > start, $"block {b} of {blocks} over {pixels} pixels is empty");
                    next = end;
                }
                Assert.Equal(pixels, next);
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => SqueezeExcitationKernels.PixelBlock(3, 4, 0, out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => SqueezeExcitationKernels.PixelBlock(3, 2, 2, out _, out _));
    }

    [Fact]
    public void RejectsShortScratch()
    {
        var p = new SqueezeExcitationParams(4, 8, 2);
        Assert.Throws<ArgumentException>(() => SqueezeExcitationKernels.Forward(new float[32], new float[16], new float[2], new float[16],
            new float[8], new float[32], new float[9], p, new SwishActivation()));
    }

    [Fact]
    public void ForwardDoesNotAllocate()
    {
        var p = new SqueezeExcitationParams(9, 33, 8);
        var x = TestData.Uniform(seed: 1, 9 * 33);
        var rk = TestData.Uniform(seed: 2, 33 * 8);
        var rb = TestData.Uniform(seed: 3, 8);
        var ek = TestData.Uniform(seed: 4, 8 * 33);
        var eb = TestData.Uniform(seed: 5, 33);
        var y = new float[x.Length];
        var scratch = new float[p.ScratchLength];
        SqueezeExcitationKernels.Forward(x, rk, rb, ek, eb, y, scratch, p, new SwishActivation());
        long before = GC.GetAllocatedBytesForCurrentThread();
        SqueezeExcitationKernels.Forward(x, rk, rb, ek, eb, y, scratch, p, new SwishActivation());
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    private static void Forward(SimdWidth width, float[] x, float[] rk, float[] rb, float[] ek, float[] eb, float[] y, float[] scratch,
                                SqueezeExcitationParams p)
        => SqueezeExcitationKernels.Forward(x, rk, rb, ek, eb, y, scratch, p, new SwishActivation(), width);
}
