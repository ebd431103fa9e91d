namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// How a packed GEMM's output is cut into work rows for the pool: <see cref="Groups"/> groups of output-channel panels
/// × <see cref="Splits"/> equal runs of pixel units (pixel blocks, or output rows). Row <c>r</c> is group
/// <c>r / Splits</c>, split <c>r % Splits</c>, so a chunk of consecutive rows stays within one panel group as long as
/// it can.
/// </summary>
/// <remarks>
/// Each split reads its group's weights once from beyond L2, and each group reads its splits' input once, so the cut
/// moves about <c>Splits · weights + Groups · input</c> bytes; fewer, larger items move less but leave a thread idle
/// longer when the last one ends. <see cref="Choose"/> weighs the two: ResNet50's batch-1 conv5 1x1s (49 pixels,
/// 4 MB of weights) split only their panels, its 112x112 maps only their pixels, conv4's 1x1s (1 MB of weights, 0.8 MB
/// of input) both ways.
/// </remarks>
internal readonly record struct GemmSplit(int Groups, int Splits, int Units, int Panels)
{
    /// <summary>Work rows: <c>Groups × Splits</c>.</summary>
    public int RowCount => Groups * Splits;

    /// <summary>
    /// The cut for <paramref name="threads"/> threads: one item when there is one thread, otherwise a multiple of
    /// <paramref name="threads"/> items, at most four per thread (beyond that the pool merges rows into chunks whose
    /// count it no longer keeps a multiple of the threads), that minimizes the bytes moved plus an item's share of the
    /// total (what a thread may be left alone with at the end).
    /// </summary>
    public static GemmSplit Choose(int units, int panels, long weightBytes, long inputBytes, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(panels, 1);
        var best = new GemmSplit(1, 1, units, panels);
        if (threads == 1) return best;
        double bestCost = double.MaxValue, total = weightBytes + inputBytes;
        for (int groups = 1; groups <= Math.Min(panels, 4 * threads); groups++)
        {
            for (int splits = 1; splits <= Math.Min(units, 4 * threads / groups); splits++)
            {
                int items = groups * splits;
                if (items % threads != 0) continue;
                double cost = (double)splits * weightBytes + (double)groups * inputBytes + total * threads / items;
                if (cost < bestCost)
                {
                    bestCost = cost;
                    best = new GemmSplit(groups, splits, units, panels);
                }
            }
        }
        return best;
    }

    /// <summary>
    /// The work of rows <c>[row, end)</c> that lies in <paramref name="row"/>'s panel group: its pixel units and panels.
    /// Returns the first row after them.
    /// </summary>
    public int Item(int row, int end, out RowRange units, out RowRange panels)
    {
        int group = row / Splits, split = row - group * Splits;
        int lastSplit = Math.Min(Splits, split + end - row);
        units = new RowRange((int)((long)split * Units / Splits), (int)((long)lastSplit * Units / Splits));
        panels = new RowRange((int)((long)group * Panels / Groups), (int)((long)(group + 1) * Panels / Groups));
        return row + lastSplit - split;
    }
}
