using NativeCnn.Imaging;

namespace NativeCnn.Tests.Imaging;

/// <summary>Resizes the corpus sources and compares with PIL's <c>Image.resize</c>, as Keras <c>load_img</c> calls it.</summary>
[Collection(ImagingCorpusCollection.Name)]
public sealed class ImageResizeTests(ImagingCorpus corpus)
{
    [ReferenceTheory(ExternalReference.Pil)]
    [InlineData("nearest", 0)]
    [InlineData("bilinear", 0)]
    public void ResizesLikePil(string mode, int tolerance)
    {
        var interpolation = mode == "nearest" ? ResizeInterpolation.Nearest : ResizeInterpolation.Bilinear;
        var failures = new List<string>();
        int count = 0;
        foreach (var c in corpus.Cases.Where(c => c[0] == "resize" && c[4] == mode))
        {
            count++;
            var source = new RgbImage(int.Parse(c[2]), int.Parse(c[3]), File.ReadAllBytes(corpus.PathOf(c[1])));
            int width = int.Parse(c[5]), height = int.Parse(c[6]);
            var resized = ImageResize.Resize(source, width, height, interpolation);
            int diff = ImageDecoderTests.MaxAbsDiff(resized.Pixels, File.ReadAllBytes(corpus.PathOf(c[7])), out int at);
            if (diff > tolerance) failures.Add($"{c[7]}: max abs diff {diff} at byte {at}");
        }
        Assert.True(count > 0, "no cases in the manifest");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [ReferenceFact(ExternalReference.Pil)]
    public void LeavesTheSourceUnchangedAndValidatesTheSize()
    {
        var source = new RgbImage(2, 1, [10, 20, 30, 40, 50, 60]);
        var resized = ImageResize.Resize(source, 4, 2);
        Assert.Equal(new byte[] { 10, 20, 30, 40, 50, 60 }, source.Pixels);
        Assert.Equal(new byte[] { 10, 20, 30, 10, 20, 30, 40, 50, 60, 40, 50, 60 }, resized.Pixels.AsSpan(0, 12).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageResize.Resize(source, 0, 5));
    }
}
