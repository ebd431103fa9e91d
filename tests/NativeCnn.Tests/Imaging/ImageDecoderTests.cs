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
    [InlineData("progressive-")]
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

    [Theory]
    [InlineData("GIF", new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a', 1, 0, 1, 0 })]
    [InlineData("WebP", new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 30, 0, 0, 0, (byte)'W', (byte)'E', (byte)'B', (byte)'P', (byte)'V', (byte)'P', (byte)'8', (byte)' ' })]
    [InlineData("BMP", new byte[] { (byte)'B', (byte)'M', 70, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0 })]
    [InlineData("TIFF", new byte[] { (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0 })]
    [InlineData("TIFF", new byte[] { (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8 })]
    [InlineData("AVIF", new byte[] { 0, 0, 0, 28, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'a', (byte)'v', (byte)'i', (byte)'f', 0, 0, 0, 0 })]
    [InlineData("HEIC", new byte[] { 0, 0, 0, 24, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'h', (byte)'e', (byte)'i', (byte)'c', 0, 0, 0, 0 })]
    public void RefusesOtherFormatsByName(string format, byte[] start)
    {
        var e = Assert.Throws<NotSupportedException>(() => ImageDecoder.Decode(start));
        Assert.StartsWith($"{format} images are not supported", e.Message);
    }

    [ReferenceFact(ExternalReference.Pil)]
    public void RefusesProgressiveCoefficientsAboveTheLimitBeforeAllocating()
    {
        // 4:4:4 at 30000 x 8000 needs 1.44 GB of coefficients, above MaxJpegCoefficientBytes; 4:2:0 at that size fits
        // the limit but not the file: its DC scan would need a bit per block.
        foreach (var (name, expected) in new[] { ("progressive-37x23-sub0-q90.jpg", "bytes of coefficients"), ("progressive-37x23-sub2-q90.jpg", "blocks cannot fit") })
        {
            var data = File.ReadAllBytes(corpus.PathOf(name));
            int sof = MarkerOffset(data, 0xC2);
            data[sof + 5] = 8000 >> 8;
            data[sof + 6] = 8000 & 0xFF;
            data[sof + 7] = 30000 >> 8;
            data[sof + 8] = 30000 & 0xFF;
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(data)).Message);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, $"{name}: allocated before refusing");
        }
    }

    [ReferenceFact(ExternalReference.Pil)]
    public void RefusesMoreProgressiveScansThanTheLimit()
    {
        // The DC refinement scan (Ss = 0, Ah = 1: one bit per block, no Huffman table, the same meaning however often
        // it is read) repeated until the file has 300 scans.
        var data = File.ReadAllBytes(corpus.PathOf("progressive-17x9-gray-q50.jpg"));
        int sos = 0;
        while (!(data[sos] == 0xFF && data[sos + 1] == 0xDA && data[sos + 7] == 0 && data[sos + 9] >> 4 == 1)) sos++;
        int end = sos + 2 + (data[sos + 2] << 8 | data[sos + 3]);
        while (!(data[end] == 0xFF && data[end + 1] is not (0x00 or >= 0xD0 and <= 0xD7))) end++;
        var file = new List<byte>(data.AsSpan(0, end).ToArray());
        for (int i = 0; i < 300 - 6; i++) file.AddRange(data.AsSpan(sos, end - sos).ToArray());
        file.AddRange(data.AsSpan(end).ToArray());
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(file.ToArray()));
        Assert.Contains("more than 256 progressive scans", e.Message);
    }

    [ReferenceFact(ExternalReference.Pil)]
    public void RefusesAnAcScanBeforeTheDcScan()
    {
        // The gray file's first scan is its DC first scan (Ss = Se = 0); made an AC band 1..5, no DC is known before it.
        var data = File.ReadAllBytes(corpus.PathOf("progressive-17x9-gray-q50.jpg"));
        int sos = MarkerOffset(data, 0xDA);
        Assert.Equal(1, data[sos + 4]);
        data[sos + 7] = 1;
        data[sos + 8] = 5;
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(data));
        Assert.Contains("before its first DC scan", e.Message);
        Assert.Matches(@"at byte offset \d+", e.Message);
    }

    [ReferenceFact(ExternalReference.Pil)]
    public void DecodesExtendedSequentialLikeBaseline()
    {
        // SOF1 with 8-bit samples and Huffman tables codes its scans exactly as SOF0 does.
        var data = File.ReadAllBytes(corpus.PathOf("jpeg-37x23-sub2.jpg"));
        var baseline = ImageDecoder.Decode(data);
        data[MarkerOffset(data, 0xC0) + 1] = 0xC1;
        Assert.Equal(baseline.Pixels, ImageDecoder.Decode(data).Pixels);
    }

    [ReferenceTheory(ExternalReference.Pil)]
    [InlineData(0xC9, "arithmetic-coded JPEG (SOF9)")]
    [InlineData(0xC3, "lossless JPEG (SOF3)")]
    [InlineData(0xC5, "hierarchical JPEG (SOF5)")]
    public void RefusesOtherCodingProcessesByName(byte sof, string feature)
    {
        var data = File.ReadAllBytes(corpus.PathOf("jpeg-37x23-sub2.jpg"));
        data[MarkerOffset(data, 0xC0) + 1] = sof;
        Assert.Contains(feature, Assert.Throws<NotSupportedException>(() => ImageDecoder.Decode(data)).Message);
    }

    [ReferenceTheory(ExternalReference.Pil)]
    [InlineData(4, 12, "12-bit samples")]          // SOF byte 4: sample precision
    [InlineData(9, 4, "CMYK/YCCK (4-component)")]  // SOF byte 9: component count
    public void RefusesOtherPrecisionsAndComponentCounts(int offsetInSof, byte value, string feature)
    {
        var data = File.ReadAllBytes(corpus.PathOf("jpeg-37x23-sub2.jpg"));
        data[MarkerOffset(data, 0xC0) + offsetInSof] = value;
        Assert.Contains(feature, Assert.Throws<NotSupportedException>(() => ImageDecoder.Decode(data)).Message);
    }

    [ReferenceFact(ExternalReference.Pil)]
    public void RefusesPbmAndUnknownData()
    {
        Assert.Contains("PBM", Assert.Throws<NotSupportedException>(() => ImageDecoder.Decode("P4 1 1\n\0"u8)).Message);
        Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(ReadOnlySpan<byte>.Empty));
    }

    /// <summary>The offset of the first marker 0xFF <paramref name="code"/> in a PIL-written JPEG.</summary>
    private static int MarkerOffset(byte[] data, byte code)
    {
        for (int i = 2; i + 1 < data.Length; i++)
            if (data[i] == 0xFF && data[i + 1] == code) return i;
        throw new InvalidOperationException($"no 0xFF 0x{code:X2} marker");
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
