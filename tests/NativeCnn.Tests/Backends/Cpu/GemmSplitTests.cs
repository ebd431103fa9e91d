using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Ops;

namespace NativeCnn.Tests.Backends.Cpu;

/// <summary>How the CPU convolution cuts a packed GEMM into work rows for the pool.</summary>
public sealed class GemmSplitTests
{
    [Theory]
    // units (pixel blocks), panels, weight bytes, input bytes, threads, expected groups, expected splits
    [InlineData(5, 64, 512 * 2048 * 4, 49 * 512 * 4, 2, 8, 1)]          // ResNet50 conv5 1x1 512 -> 2048, batch 1: panels only
    [InlineData(17, 8, 1024 * 256 * 4, 196 * 1024 * 4, 2, 2, 1)]        // conv4 1x1 1024 -> 256: half the weights per thread
    [InlineData(1046, 1, 32 * 16 * 4, 12544 * 32 * 4, 2, 1, 8)]         // MobileNetV2 112x112 32 -> 16: pixels only
    [InlineData(1046, 1, 32 * 16 * 4, 12544 * 32 * 4, 1, 1, 1)]         // one thread: one item
    [InlineData(1, 1, 1000, 1000, 2, 1, 1)]                             // nothing to share
    public void CutsByTheBytesEachWayMoves(int units, int panels, long weightBytes, long inputBytes, int threads, int groups, int splits)
    {
        var split = GemmSplit.Choose(units, panels, weightBytes, inputBytes, threads);
        Assert.Equal((groups, splits), (split.Groups, split.Splits));
    }

    [Theory]
    [InlineData(5, 64, 2)]
    [InlineData(17, 8, 2)]
    [InlineData(262, 8, 3)]
    [InlineData(3, 40, 4)]
    public void ItemsCoverEveryUnitAndPanelOnce(int units, int panels, int threads)
    {
        var split = GemmSplit.Choose(units, panels, 4L * 1024 * 1024, 300 * 1024, threads);
        Assert.True(split.RowCount % threads == 0 || split.RowCount == 1, $"{split.RowCount} rows for {threads} threads");
        Assert.True(split.RowCount <= 4 * threads);
        // Every chunking the pool may make, from single rows to all of them, covers the output exactly once.
        for (int chunk = 1; chunk <= split.RowCount; chunk++)
        {
            var seen = new int[units, panels];
            for (int start = 0; start < split.RowCount; start += chunk)
            {
                int end = Math.Min(split.RowCount, start + chunk);
                for (int row = start; row < end;)
                {
                    int next = split.Item(row, end, out var unitRange, out var panelRange);
                    Assert.True(next > row && next <= end);
                    for (int u = unitRange.Start; u < unitRange.End; u++)
                        for (int p = panelRange.Start; p < panelRange.End; p++) seen[u, p]++;
                    row = next;
                }
            }
            foreach (int count in seen) Assert.Equal(1, count);
        }
    }
}
