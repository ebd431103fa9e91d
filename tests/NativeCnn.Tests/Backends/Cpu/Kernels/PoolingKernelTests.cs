using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary><see cref="PoolingKernels"/> at every SIMD width and the default one, against float64 loops.</summary>
public class PoolingKernelTests
{
    private static readonly SimdWidth[] s_widths = SimdSupport.AllWidthsAndAuto;
    private static readonly int[] s_channels = [1, 3, 7, 17, 33];

    /// <summary>(height, width, pool, stride, same): H≠W, odd sizes, pool 2/3, stride 1/2/3, valid and same.</summary>
    private static readonly (int H, int W, int Pool, int Stride, bool Same)[] s_windows =
    [
        (7, 5, 2, 2, false), (7, 5, 2, 2, true), (7, 5, 3, 2, false), (7, 5, 3, 2, true),
        (9, 6, 3, 1, true), (9, 6, 3, 1, false), (8, 11, 2, 1, true), (8, 11, 3, 2, true),
        (5, 5, 3, 3, true), (3, 4, 3, 2, false), (1, 6, 1, 1, true), (6, 9, 2, 2, true),
    ];

    public static TheoryData<SimdWidth, bool> WidthsAndModes()
    {
        var data = new TheoryData<SimdWidth, bool>();
        foreach (var width in s_widths) { data.Add(width, true); data.Add(width, false); }
        return data;
    }

    public static TheoryData<SimdWidth> Widths() => [.. s_widths];

    [Theory]
    [MemberData(nameof(WidthsAndModes))]
    public void PoolMatchesReference(SimdWidth width, bool max)
    {
        const int batch = 2;
        foreach (var (h, w, pool, stride, same) in s_windows)
            foreach (int channels in s_channels)
            {
                var p = Params(batch, h, w, channels, pool, stride, same);
                var x = TestData.Uniform(seed: h * 1000 + w * 100 + channels, batch * h * w * channels, -5f, 5f);
                var expected = ReferenceElementwise.Pool(x, batch, h, w, channels, pool, stride, same, max);
                Assert.Equal(expected.Length, batch * p.OutputHeight * p.OutputWidth * channels);
                var y = new float[expected.Length];
                Pool(width, max, x, y, p, RowRange.All(p.RowCount));
                string what = $"{(max ? "max" : "avg")} {h}x{w}x{channels} pool {pool} stride {stride} {(same ? "same" : "valid")}";
                Precision.AssertClose(expected, y, scale: 5, what: what);

                // Split rows, as worker threads do: every row computed exactly once gives the same result.
                var split = new float[y.Length];
                int middle = p.RowCount / 2 + 1;
                Pool(width, max, x, split, p, new RowRange(0, Math.Min(middle, p.RowCount)));
                Pool(width, max, x, split, p, new RowRange(Math.Min(middle, p.RowCount), p.RowCount));
                Assert.Equal(y, split);
            }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void MaxPoolWithZeroPaddedCellsMatchesPaddingThenPooling(SimdWidth width)
    {
        const int batch = 2;
        // (top, bottom, left, right, pool, stride): ResNet's pool1, asymmetric pads, pads beyond the window's reach.
        foreach (var (top, bottom, left, right, pool, stride) in new[] { (1, 1, 1, 1, 3, 2), (0, 2, 1, 0, 3, 2), (2, 1, 0, 3, 2, 1), (1, 0, 0, 1, 2, 2) })
            foreach (int channels in s_channels)
            {
                int h = 7, w = 6, paddedH = h + top + bottom, paddedW = w + left + right;
                int outH = (paddedH - pool) / stride + 1, outW = (paddedW - pool) / stride + 1;
                var p = new Pooling2DParams(batch, h, w, channels, outH, outW, pool, pool, stride, stride, top, left, PaddedCellsAreZeros: true);
                // Mostly negative: a window touching the padding must give 0, not its in-bounds max.
                var x = TestData.Uniform(seed: channels + 10 * top + 100 * right, batch * h * w * channels, -5f, 1f);
                var padded = ReferenceElementwise.ZeroPad(x, batch, h, w, channels, top, bottom, left, right).Select(v => (float)v).ToArray();
                var expected = ReferenceElementwise.Pool(padded, batch, paddedH, paddedW, channels, pool, stride, same: false, max: true);
                var y = new float[expected.Length];
                Array.Fill(y, float.NaN);
                int middle = p.RowCount / 2;
                Pool(width, max: true, x, y, p, new RowRange(0, middle));
                Pool(width, max: true, x, y, p, new RowRange(middle, p.RowCount));
                Precision.AssertClose(expected, y, relative: 0, what: $"pads ({top}, {bottom}, {left}, {right}) pool {pool}/{stride} c {channels}");
            }
    }

    [Fact]
    public void AveragePoolRejectsZeroPaddedCells()
    {
        var p = new Pooling2DParams(1, 4, 4, 3, 2, 2, 2, 2, 2, 2, 0, 0, PaddedCellsAreZeros: true);
        Assert.Throws<ArgumentException>(() => PoolingKernels.AveragePool(new float[48], new float[12], p, RowRange.All(p.RowCount)));
    }

    [Fact]
    public void AveragePoolExcludesPaddedCells()
    {
        // 'same' 3x3 stride 1 over all ones: TensorFlow gives exactly 1 everywhere, zeros-padding would give 4/9 at corners.
        var x = new float[4 * 5 * 3];
        Array.Fill(x, 1f);
        var p = Params(1, 4, 5, 3, 3, 1, same: true);
        var y = new float[x.Length];
        PoolingKernels.AveragePool(x, y, p, RowRange.All(p.RowCount));
        Assert.All(y, v => Assert.Equal(1f, v));
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void GlobalPoolsMatchReference(SimdWidth width)
    {
        foreach (int pixels in new[] { 1, 7, 35, 49 })
            foreach (int channels in new[] { 1, 3, 7, 8, 16, 17, 33, 64, 70, 130 })
            {
                var x = TestData.Uniform(seed: pixels * 1000 + channels, pixels * channels, -3f, 3f);
                var y = new float[channels];
                GlobalPool(width, max: false, x, y, pixels);
                Precision.AssertClose(ReferenceElementwise.GlobalPool(x, pixels, channels, max: false), y, scale: 3, what: $"avg {pixels}x{channels}");
                GlobalPool(width, max: true, x, y, pixels);
                Precision.AssertClose(ReferenceElementwise.GlobalPool(x, pixels, channels, max: true), y, what: $"max {pixels}x{channels}");
            }
    }

    [Fact]
    public void ZeroPadMatchesReference()
    {
        const int batch = 2;
        foreach (var pad in new[] { new Padding2D(1, 1, 1, 1), new Padding2D(0, 1, 0, 1), new Padding2D(2, 0, 1, 3), new Padding2D(0, 0, 0, 0) })
            foreach (int channels in s_channels)
            {
                int h = 5, w = 4;
                var p = new ZeroPadding2DParams(batch, h, w, channels, pad);
                var x = TestData.Uniform(seed: channels + pad.Top * 10 + pad.Right * 100, batch * h * w * channels);
                var expected = ReferenceElementwise.ZeroPad(x, batch, h, w, channels, pad.Top, pad.Bottom, pad.Left, pad.Right);
                var y = new float[expected.Length];
                // Garbage first: every output cell must be written, border included.
                Array.Fill(y, float.NaN);
                int middle = p.RowCount / 3;
                PoolingKernels.ZeroPad(x, y, p, new RowRange(0, middle));
                PoolingKernels.ZeroPad(x, y, p, new RowRange(middle, p.RowCount));
                Precision.AssertClose(expected, y, relative: 0, what: $"{pad} c {channels}");
            }
    }

    [Fact]
    public void RejectsBadShapes()
    {
        var p = Params(1, 4, 4, 3, 2, 2, same: false);
        Assert.Throws<ArgumentException>(() => PoolingKernels.MaxPool(new float[47], new float[12], p, RowRange.All(p.RowCount)));
        Assert.Throws<ArgumentOutOfRangeException>(() => PoolingKernels.AveragePool(new float[48], new float[12], p, new RowRange(0, 3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => PoolingKernels.GlobalAveragePool(new float[3], new float[3], 0));
        Assert.Throws<ArgumentException>(() => PoolingKernels.GlobalMaxPool(new float[5], new float[3], 2));
    }

    [Fact]
    public void KernelsDoNotAllocate()
    {
        var p = Params(2, 7, 5, 17, 3, 2, same: true);
        var x = TestData.Uniform(seed: 3, 2 * 7 * 5 * 17);
        var y = new float[2 * p.OutputHeight * p.OutputWidth * 17];
        var pad = new ZeroPadding2DParams(2, 7, 5, 17, new Padding2D(1, 2, 0, 1));
        var padded = new float[2 * pad.OutputHeight * pad.OutputWidth * 17];
        var g = new float[17];
        void RunAll()
        {
            PoolingKernels.MaxPool(x, y, p, RowRange.All(p.RowCount));
            PoolingKernels.AveragePool(x, y, p, RowRange.All(p.RowCount));
            PoolingKernels.ZeroPad(x, padded, pad, RowRange.All(pad.RowCount));
            PoolingKernels.GlobalAveragePool(x, g, 35);
            PoolingKernels.GlobalMaxPool(x, g, 35);
        }
        RunAll();
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunAll();
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    private static Pooling2DParams Params(int batch, int h, int w, int channels, int pool, int stride, bool same)
    {
        var pad = Padding2D.Resolve(same ? Padding.Same : Padding.Valid, h, w, pool, pool, stride, stride);
        int outH = Padding2D.OutputSize(h, pad.Top, pad.Bottom, pool, stride);
        int outW = Padding2D.OutputSize(w, pad.Left, pad.Right, pool, stride);
        return new Pooling2DParams(batch, h, w, channels, outH, outW, pool, pool, stride, stride, pad.Top, pad.Left);
    }

    private static void Pool(SimdWidth width, bool max, float[] x, float[] y, Pooling2DParams p, RowRange rows)
    {
        if (max) PoolingKernels.MaxPool(x, y, p, rows, width);
        else PoolingKernels.AveragePool(x, y, p, rows, width);
    }

    private static void GlobalPool(SimdWidth width, bool max, float[] x, float[] y, int pixels)
    {
        if (max) PoolingKernels.GlobalMaxPool(x, y, pixels, width);
        else PoolingKernels.GlobalAveragePool(x, y, pixels, width);
    }
}
