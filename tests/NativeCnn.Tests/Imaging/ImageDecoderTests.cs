using NativeCnn.Imaging;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Imaging;

/// <summary>Decodes the reference corpus and compares with PIL's <c>convert("RGB")</c> of the same files.</summary>
[Collection(ImagingCorpusCollection.Name)]
public sealed class ImageDecoderTests(ImagingCorpus corpus, ITestOutputHelper output)
{
    [ReferenceTheory(ExternalReference.Pil)]
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

    [ReferenceFact(ExternalReference.Pil)]
    public void RefusesProgressiveJpegByName()
    {
        var e = Assert.Throws<NotSupportedException>(() => ImageDecoder.Decode(corpus.PathOf("progressive.jpg")));
        Assert.Contains("progressive JPEG (SOF2)", e.Message);
    }

    [ReferenceTheory(ExternalReference.Pil)]
    [InlineData(0xC9, "arithmetic-coded JPEG (SOF9)")]
    [InlineData(0xC3, "lossless JPEG (SOF3)")]
    [InlineData(0xC5, "hierarchical JPEG (SOF5)")]
    public void RefusesOtherCodingProcessesByName(byte sof, string feature)
    {
        var data = File.ReadAllBytes(corpus.PathOf("jpeg-37x23-sub2.jpg"));
        data[SofOffset(data) + 1] = sof;
        Assert.Contains(feature, Assert.Throws<NotSupportedException>(() => ImageDecoder.Decode(data)).Message);
    }

    [ReferenceTheory(ExternalReference.Pil)]
    [InlineData(4, 12, "12-bit samples")]          // SOF byte 4: sample precision
    [InlineData(9, 4, "CMYK/YCCK (4-component)")]  // SOF byte 9: component count
    public void RefusesOtherPrecisionsAndComponentCounts(int offsetInSof, byte value, string feature)
    {
        var data = File.ReadAllBytes(corpus.PathOf("jpeg-37x23-sub2.jpg"));
        data[SofOffset(data) + offsetInSof] = value;
        Assert.Contains(feature, Assert.Throws<NotSupportedException>(() => ImageDecoder.Decode(data)).Message);
    }

    [ReferenceFact(ExternalReference.Pil)]
    public void RefusesPbmAndUnknownData()
    {
        Assert.Contains("PBM", Assert.Throws<NotSupportedException>(() => ImageDecoder.Decode("P4 1 1\n\0"u8)).Message);
        Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(ReadOnlySpan<byte>.Empty));
    }

    /// <summary>The offset of the SOF0 marker (0xFF 0xC0) in a PIL-written JPEG.</summary>
    private static int SofOffset(byte[] data)
    {
        for (int i = 2; i + 1 < data.Length; i++)
            if (data[i] == 0xFF && data[i + 1] == 0xC0) return i;
        throw new InvalidOperationException("no SOF0 marker");
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
