using System.Buffers.Binary;
using System.Diagnostics;
using NativeCnn.Imaging;

namespace NativeCnn.Tests.Imaging;

/// <summary>
/// Truncations and seeded byte corruptions of corpus files: decoding must succeed or throw
/// <see cref="InvalidDataException"/> / <see cref="NotSupportedException"/>, never anything else, and quickly.
/// </summary>
[Collection(ImagingCorpusCollection.Name)]
public sealed class ImageDecoderFuzzTests(ImagingCorpus corpus)
{
    public static TheoryData<string> Files =>
    [
        "png-37x23-ct2-d8-i0.png", "png-37x23-ct6-d16-i1.png", "png-37x23-ct3-d4-i0.png", "png-37x23-ct0-d1-i1.png",
        "pnm-P6-255.ppm", "pnm-P6-1000.ppm", "pnm-P3-255.ppm", "pnm-P2-15.pgm",
        "jpeg-37x23-sub2.jpg", "jpeg-17x33-gray.jpg", "jpeg-own-420-rst2.jpg", "jpeg-own-noninterleaved-420-rst4.jpg", "jpeg-own-411.jpg",
        "progressive-37x23-sub2-q90.jpg", "progressive-17x9-gray-q50.jpg", "progressive-own-420-rst2.jpg", "progressive-own-444-rst1-deep.jpg",
        "progressive-own-422-rst5-spectral.jpg",
    ];

    [ReferenceTheory(ExternalReference.Pil)]
    [MemberData(nameof(Files))]
    public void EveryTruncationFailsCleanly(string name)
    {
        byte[] data = File.ReadAllBytes(corpus.PathOf(name));
        var watch = Stopwatch.StartNew();
        // Every prefix short of the whole file must throw, except that an ASCII PPM/PGM cut inside its last number is
        // still a valid file (with a smaller last sample).
        int end = data.Length - 1;
        if (data[0] == (byte)'P' && data[1] is (byte)'2' or (byte)'3')
        {
            end = data.Length;
            while (!char.IsAsciiDigit((char)data[end - 1])) end--;
            while (char.IsAsciiDigit((char)data[end - 1])) end--;
        }
        for (int length = 0; length < end; length++)
        {
            var e = Record.Exception(() => ImageDecoder.Decode(data.AsSpan(0, length)));
            Assert.True(e is InvalidDataException or NotSupportedException, $"{name} cut to {length} bytes: {e?.GetType().Name ?? "no exception"} {e?.Message}");
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{data.Length} truncations took {watch.Elapsed}");
    }

    [ReferenceTheory(ExternalReference.Pil)]
    [MemberData(nameof(Files))]
    public void SeededCorruptionFailsCleanly(string name)
    {
        byte[] original = File.ReadAllBytes(corpus.PathOf(name));
        var random = new Random(name.GetHashCode(StringComparison.Ordinal) & 0x7FFF ^ 20261123);
        var watch = Stopwatch.StartNew();
        for (int trial = 0; trial < 1500; trial++)
        {
            byte[] data = (byte[])original.Clone();
            int flips = 1 + random.Next(4);
            // Half the trials aim at the first 200 bytes, where headers and tables live.
            int span = trial % 2 == 0 ? Math.Min(200, data.Length) : data.Length;
            for (int f = 0; f < flips; f++) data[random.Next(span)] = (byte)random.Next(256);
            // For PNG, also repair the CRCs, so corruption reaches the header, zlib and filter parsing.
            if (name.EndsWith(".png", StringComparison.Ordinal) && trial % 3 != 0) RepairPngCrcs(data);
            Exception? e;
            try
            {
                var image = ImageDecoder.Decode(data);
                Assert.Equal(image.Width * image.Height * 3, image.Pixels.Length);
                e = null;
            }
            catch (Exception caught)
            {
                e = caught;
                }
            Assert.True(e is null or InvalidDataException or NotSupportedException, $"{name} trial {trial}: {e}");
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"1500 corruptions took {watch.Elapsed}");
    }

    [ReferenceFact(ExternalReference.Pil)]
    public void ErrorsNameTheByteOffset()
    {
        var png = File.ReadAllBytes(corpus.PathOf("png-37x23-ct2-d8-i0.png"));
        png[40] ^= 0x55;
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(png));
        Assert.Matches(@"at byte offset \d+", e.Message);
        Assert.Contains("at byte offset 0", Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode("XCF v001"u8)).Message);
    }

    [ReferenceFact(ExternalReference.Pil)]
    public void RefusesHugeDimensionsBeforeAllocating()
    {
        // A PPM header claiming 32768 x 32768 (above 2^28 pixels) and a PNG claiming 30000 x 8000 from 10 bytes of IDAT.
        Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode("P6 32768 32768 255\n\0\0\0"u8));
        var png = File.ReadAllBytes(corpus.PathOf("png-1x1-ct2-d8-i0.png"));
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 30000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), 8000);
        RepairPngCrcs(png);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(png));
        Assert.Contains("cannot hold", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    /// <summary>Recomputes every chunk CRC that still lies inside the data.</summary>
    private static void RepairPngCrcs(byte[] data)
    {
        int pos = 8;
        while (data.Length - pos >= 12)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(pos));
            if (length > data.Length - pos - 12) return;
            uint crc = PngDecoderCrc(data.AsSpan(pos + 4, 4 + (int)length));
            BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(pos + 8 + (int)length), crc);
            pos += 12 + (int)length;
        }
    }

    private static uint PngDecoderCrc(ReadOnlySpan<byte> bytes) => PngDecoder.Crc32(bytes);
}
