using NativeCnn.Imaging;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Imaging;

/// <summary>Decodes the reference corpus and compares with PIL's <c>convert("RGB")</c> of the same files.</summary>
public sealed class ImageDecoderTests(ImagingCorpus corpus, ITestOutputHelper output) : IClassFixture<ImagingCorpus>
{
    [Theory]
    [InlineData("png-")]
    [InlineData("pnm-")]
    [InlineData("jpeg-")]
    public void DecodesLikePil(string prefix)
    {
        var failures = new List<string>();
        int count = 0, worst = 0;
        foreach (var c in corpus.Cases.Where(c => c[0] == "decode" && c[1].StartsWith(prefix, StringComparison.Ordinal)))
        {
            count++;
            int width = int.Parse(c[2]), height = int.Parse(c[3]), tolerance = int.Parse(c[5]);
            byte[] expected = File.ReadAllBytes(corpus.PathOf(c[4]));
            RgbImage image;
            try
            {
                image = ImageDecoder.Decode(corpus.PathOf(c[1]));
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException)
            {
                failures.Add($"{c[1]}: {e.Message}");
                continue;
            }
            if (image.Width != width || image.Height != height)
            {
                failures.Add($"{c[1]}: size {image.Width}x{image.Height}, expected {width}x{height}");
                continue;
            }
            int diff = MaxAbsDiff(image.Pixels, expected, out int at);
            worst = Math.Max(worst, diff);
            if (diff > tolerance) failures.Add($"{c[1]}: max abs diff {diff} > {tolerance} at byte {at}");
        }
        output.WriteLine($"{count} {prefix} files, max abs diff vs PIL {worst}");
        Assert.True(count > 0, "no cases in the manifest");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void RefusesProgressiveJpegByName()
    {
        var e = Assert.Throws<NotSupportedException>(() => ImageDecoder.Decode(corpus.PathOf("progressive.jpg")));
        Assert.Contains("progressive JPEG (SOF2)", e.Message);
    }

    internal static int MaxAbsDiff(ReadOnlySpan<byte> actual, ReadOnlySpan<byte> expected, out int at)
    {
        Assert.Equal(expected.Length, actual.Length);
        int worst = 0;
        at = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            int d = Math.Abs(actual[i] - expected[i]);
            if (d > worst) { worst = d; at = i; }
        }
        return worst;
    }
}
