using NativeCnn.Imaging;
using NativeCnn.Training;

namespace NativeCnn.Tests.Training;

public class ImageFolderDatasetTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"nativecnn-folder-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public ImageFolderDatasetTests()
    {
        // Classes out of order on disk, a nested folder, an upper-case extension and a file that is not an image.
        Write("dogs/b.png", 10);
        Write("dogs/a.PNG", 20);
        Write("cats/z.png", 30);
        Write("cats/sub/a.png", 40);
        Write("cats/m.png", 50);
        Write("birds/x.png", 60);
        File.WriteAllText(Path.Combine(_folder, "dogs", "notes.txt"), "not an image");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // A 4x2 (width x height) image whose red channel encodes `value` and whose columns differ, to see resizes and flips.
    private void Write(string relative, byte value)
    {
        string path = Path.Combine(_folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var image = new RgbImage(4, 2);
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 4; x++)
                (image.Pixels[(y * 4 + x) * 3], image.Pixels[(y * 4 + x) * 3 + 1], image.Pixels[(y * 4 + x) * 3 + 2]) = (value, (byte)(x * 10), (byte)(y * 100));
        PngEncoder.Write(path, image);
    }

    private string P(string relative) => Path.Combine(_folder, relative.Replace('/', Path.DirectorySeparatorChar));

    [Fact]
    public void IndexesAsKerasIndexDirectory()
    {
        var data = ImageFolderDataset.FromDirectory(_folder, 2, 4, shuffle: false);
        Assert.Equal(["birds", "cats", "dogs"], data.ClassNames);
        // Per class: the class folder's files sorted, then each subfolder's (os.walk roots sorted).
        Assert.Equal([P("birds/x.png"), P("cats/m.png"), P("cats/z.png"), P("cats/sub/a.png"), P("dogs/a.PNG"), P("dogs/b.png")], data.FilePaths);
        Assert.Equal([0, 1, 1, 1, 2, 2], data.Labels);
    }

    [Fact]
    public void ShuffleIsNumPysRandomStateShuffleOfTheIndex()
    {
        var ordered = ImageFolderDataset.FromDirectory(_folder, 2, 4, shuffle: false);
        var shuffled = ImageFolderDataset.FromDirectory(_folder, 2, 4, shuffle: true, seed: 1337);
        // RandomState(1337).shuffle(list(range(6))) gives [3, 2, 1, 0, 4, 5] (NumPy 1.24); paths and labels move together.
        int[] permutation = [3, 2, 1, 0, 4, 5];
        Assert.Equal(permutation.Select(i => ordered.FilePaths[i]), shuffled.FilePaths);
        Assert.Equal(permutation.Select(i => ordered.Labels[i]), shuffled.Labels);
        var (train, validation) = shuffled.Split(0.34); // int(0.34 · 6) = 2 validate: the last two
        Assert.Equal(shuffled.FilePaths.Take(4), train.FilePaths);
        Assert.Equal(shuffled.FilePaths.Skip(4), validation.FilePaths);
    }

    [Fact]
    public void LoadsFloatRgbInKerasRange()
    {
        var data = ImageFolderDataset.FromDirectory(_folder, 2, 4, shuffle: false).Load();
        Assert.Equal(6, data.Count);
        Assert.Equal([2, 4, 3], data.SampleShape);
        var first = data.Input(0);
        Assert.Equal(60f, first[0]);
        Assert.Equal(30f, first[3 * 3 + 1]); // x = 3: green 30
        Assert.Equal(100f, first[(4 + 1) * 3 + 2]); // y = 1: blue 100
        Assert.Equal(2f, data.Target(5)[0]);
    }

    [Fact]
    public void BilinearIsTensorFlowsHalfPixelResize()
    {
        // tf.image.resize([[0, 1], [2, 3]], (4, 4), "bilinear"), the well-known half-pixel result.
        var image = new RgbImage(2, 2);
        for (int i = 0; i < 4; i++) image.Pixels[i * 3] = (byte)i;
        var output = new float[4 * 4 * 3];
        ImageFolderDataset.ResizeBilinear(image, 4, 4, output);
        float[] expected = [0, 0.25f, 0.75f, 1, 0.5f, 0.75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3];
        Assert.Equal(expected, Enumerable.Range(0, 16).Select(i => output[i * 3]));
        // Halving averages pairs (no antialias needed at exactly 2x): 4x1 [0, 10, 20, 30] -> [5, 25].
        var row = new RgbImage(4, 1);
        for (int x = 0; x < 4; x++) row.Pixels[x * 3] = (byte)(10 * x);
        var half = new float[2 * 3];
        ImageFolderDataset.ResizeBilinear(row, 1, 2, half);
        Assert.Equal([5f, 25f], new[] { half[0], half[3] });
        ImageFolderDataset.ResizeNearest(row, 1, 2, half);
        Assert.Equal([10f, 30f], new[] { half[0], half[3] }); // floor((i + 0.5) · 2) = 1, 3
    }

    [Fact]
    public void RandomHorizontalFlipMirrorsAboutHalfTheSamplesDeterministically()
    {
        var data = ImageFolderDataset.FromDirectory(_folder, 2, 4, shuffle: false).Load();
        var iterator = new BatchIterator(data, 6, shuffle: false, seed: 9, randomHorizontalFlip: true);
        var inputs = new float[6 * 24];
        var targets = new float[6];
        int flipped = 0;
        for (int epoch = 0; epoch < 20; epoch++)
        {
            iterator.StartEpoch(epoch);
            Assert.Equal(6, iterator.NextBatch(inputs, targets));
            for (int b = 0; b < 6; b++)
            {
                var sample = inputs.AsSpan(b * 24, 24);
                bool mirrored = sample[1] == 30f; // green of x = 0 is 30 when mirrored, 0 otherwise
                Assert.True(mirrored || sample[1] == 0f);
                if (mirrored)
                {
                    flipped++;
                    for (int x = 0; x < 4; x++) Assert.Equal(data.Input(b)[(3 - x) * 3 + 1], sample[x * 3 + 1]);
                }
                else
                {
                    Assert.True(data.Input(b).SequenceEqual(sample));
                }
            }
        }
        Assert.InRange(flipped, 40, 80); // 120 coins
        var again = new BatchIterator(data, 6, shuffle: false, seed: 9, randomHorizontalFlip: true);
        var first = new float[6 * 24];
        again.StartEpoch(19);
        again.NextBatch(first, targets);
        Assert.Equal(inputs, first);
        Assert.Throws<ArgumentException>(() => new BatchIterator(new ArrayDataset(new float[4], [2], new float[2], 1), 1, randomHorizontalFlip: true));
    }

    [Fact]
    public void EmptyOrMissingFoldersAreNamedErrors()
    {
        Assert.Throws<DirectoryNotFoundException>(() => ImageFolderDataset.FromDirectory(Path.Combine(_folder, "missing")));
        var e = Assert.Throws<ArgumentException>(() => ImageFolderDataset.FromDirectory(Path.Combine(_folder, "birds")));
        Assert.Contains("one subfolder per class", e.Message);
    }
}
