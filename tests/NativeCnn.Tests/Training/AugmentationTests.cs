using NativeCnn.Training;

namespace NativeCnn.Tests.Training;

/// <summary>Random crops and flips as <see cref="BatchIterator"/> draws them, and <see cref="ArrayDataset.CenterCrop"/>.</summary>
public sealed class AugmentationTests
{
    private const int Height = 5, Width = 6, Channels = 2;

    // Every value names its sample, row, column and channel, so a batched sample shows which window it came from.
    private static ArrayDataset Coded(int count)
    {
        var inputs = new float[count * Height * Width * Channels];
        for (int n = 0; n < count; n++)
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                    for (int c = 0; c < Channels; c++)
                        inputs[((n * Height + y) * Width + x) * Channels + c] = n * 1000 + y * 100 + x * 10 + c;
        return new ArrayDataset(inputs, [Height, Width, Channels], Enumerable.Range(0, count).ToArray());
    }

    // The window (top, left, mirrored) of `source` that `sample` is, found by trying them all; null if none.
    private static (int Top, int Left, bool Mirror)? WindowOf(ReadOnlySpan<float> sample, int n, int rows, int columns)
    {
        for (int top = 0; top + rows <= Height; top++)
            for (int left = 0; left + columns <= Width; left++)
                foreach (bool mirror in new[] { false, true })
                {
                    bool same = true;
                    for (int y = 0; y < rows && same; y++)
                        for (int x = 0; x < columns && same; x++)
                            for (int c = 0; c < Channels && same; c++)
                            {
                                int sx = left + (mirror ? columns - 1 - x : x);
                                same = sample[(y * columns + x) * Channels + c] == n * 1000 + (top + y) * 100 + sx * 10 + c;
                            }
                    if (same) return (top, left, mirror);
                }
        return null;
    }

    [Fact]
    public void RandomCropsAreWindowsOfTheSampleDrawnUniformlyAndReproducibly()
    {
        var data = Coded(8);
        var iterator = new BatchIterator(data, 8, shuffle: false, seed: 3, randomCrop: new CropSize(3, 4));
        Assert.Equal([3, 4, Channels], iterator.SampleShape);
        Assert.Equal(3 * 4 * Channels, iterator.InputLength);
        var inputs = new float[8 * iterator.InputLength];
        var targets = new float[8];
        var seen = new Dictionary<(int, int), int>();
        for (int epoch = 0; epoch < 60; epoch++)
        {
            iterator.StartEpoch(epoch);
            Assert.Equal(8, iterator.NextBatch(inputs, targets));
            for (int n = 0; n < 8; n++)
            {
                var window = WindowOf(inputs.AsSpan(n * iterator.InputLength, iterator.InputLength), n, 3, 4);
                Assert.True(window is { Mirror: false }, $"epoch {epoch} sample {n} is not an unmirrored 3x4 window");
                Assert.Equal(n, targets[n]);
                var key = (window.Value.Top, window.Value.Left);
                seen[key] = seen.GetValueOrDefault(key) + 1;
            }
        }
        // 3 tops x 3 lefts, 480 draws: each about 53 times.
        Assert.Equal(9, seen.Count);
        Assert.All(seen.Values, count => Assert.InRange(count, 25, 85));

        var again = new BatchIterator(data, 8, shuffle: false, seed: 3, randomCrop: new CropSize(3, 4));
        var replay = new float[inputs.Length];
        again.StartEpoch(59);
        again.NextBatch(replay, targets);
        Assert.Equal(inputs, replay);
        var otherSeed = new BatchIterator(data, 8, shuffle: false, seed: 4, randomCrop: new CropSize(3, 4));
        otherSeed.StartEpoch(59);
        otherSeed.NextBatch(replay, targets);
        Assert.NotEqual(inputs, replay);
    }

    [Fact]
    public void CropThenFlipMirrorsAboutHalfTheWindows()
    {
        var data = Coded(6);
        var iterator = new BatchIterator(data, 6, shuffle: true, seed: 11, randomHorizontalFlip: true, randomCrop: new CropSize(4, 3));
        var inputs = new float[6 * iterator.InputLength];
        var targets = new float[6];
        int mirrored = 0;
        for (int epoch = 0; epoch < 40; epoch++)
        {
            iterator.StartEpoch(epoch);
            iterator.NextBatch(inputs, targets);
            for (int b = 0; b < 6; b++)
            {
                int n = (int)targets[b];
                var window = WindowOf(inputs.AsSpan(b * iterator.InputLength, iterator.InputLength), n, 4, 3);
                Assert.NotNull(window);
                if (window.Value.Mirror) mirrored++;
            }
        }
        Assert.InRange(mirrored, 90, 150); // 240 coins
    }

    [Fact]
    public void AWholeSizeCropKeepsTheSamples()
    {
        var data = Coded(3);
        var iterator = new BatchIterator(data, 3, shuffle: false, randomCrop: new CropSize(Height, Width));
        var inputs = new float[3 * data.InputLength];
        iterator.NextBatch(inputs, new float[3]);
        Assert.Equal(data.Inputs.ToArray(), inputs);
    }

    [Fact]
    public void CropsThatDoNotFitAreRefusedWithTheSizes()
    {
        var data = Coded(2);
        var tall = Assert.Throws<ArgumentException>(() => new BatchIterator(data, 2, randomCrop: new CropSize(Height + 1, 2)));
        Assert.Contains("6x2 crop", tall.Message);
        Assert.Contains("5x6 samples", tall.Message);
        Assert.Throws<ArgumentException>(() => new BatchIterator(data, 2, randomCrop: new CropSize(0, 2)));
        var flat = new ArrayDataset(new float[8], [4], new float[2], 1);
        Assert.Contains("(height, width, channels)", Assert.Throws<ArgumentException>(() => new BatchIterator(flat, 1, randomCrop: new CropSize(2, 2))).Message);
        Assert.Throws<ArgumentException>(() => data.CenterCrop(2, Width + 1));
        Assert.Throws<ArgumentException>(() => flat.CenterCrop(1, 1));
        var small = new BatchIterator(data, 2, randomCrop: new CropSize(2, 2));
        Assert.Throws<ArgumentException>(() => small.NextBatch(new float[2 * 2 * 2 * Channels - 1], new float[2]));
    }

    [Fact]
    public void CenterCropKeepsTheMiddleWindowWithOffsetsRoundedDown()
    {
        var data = Coded(3);
        var cropped = data.CenterCrop(2, 3);
        Assert.Equal([2, 3, Channels], cropped.SampleShape);
        Assert.Equal(3, cropped.Count);
        Assert.Equal(data.Targets.ToArray(), cropped.Targets.ToArray());
        for (int n = 0; n < 3; n++)
        {
            // (5 - 2) / 2 = 1 row down, (6 - 3) / 2 = 1 column in.
            Assert.Equal((1, 1, false), WindowOf(cropped.Input(n), n, 2, 3));
        }
    }
}
