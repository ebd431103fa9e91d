using NativeCnn.Imaging;

namespace NativeCnn.Tests.Imaging;

/// <summary>The PNG writer against the library's own decoder and PIL.</summary>
public sealed class PngEncoderTests
{
    [Fact]
    public void Crc32IsTheIsoHdlcCrc() // the standard check value of CRC-32/ISO-HDLC, and PNG's IEND chunk
    {
        Assert.Equal(0xCBF43926u, PngEncoder.Crc32("123456789"u8));
        Assert.Equal(0xAE426082u, PngEncoder.Crc32("IEND"u8));
        Assert.Equal(0u, PngEncoder.Crc32([]));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(37, 5)]
    [InlineData(256, 129)]
    public void RoundTripsThroughTheDecoder(int width, int height)
    {
        var image = RandomImage(width, height, width * 1000 + height);
        using var stream = new MemoryStream();
        PngEncoder.Write(stream, image);
        var decoded = ImageDecoder.Decode(stream.ToArray());
        Assert.Equal((width, height), (decoded.Width, decoded.Height));
        Assert.Equal(image.Pixels, decoded.Pixels);
    }

    [ReferenceFact(ExternalReference.Pil)]
    public void PilDecodesTheSamePixels()
    {
        var image = RandomImage(45, 23, 5);
        string folder = Directory.CreateTempSubdirectory("nativecnn-png").FullName;
        try
        {
            string png = Path.Combine(folder, "x.png"), raw = Path.Combine(folder, "x.raw");
            PngEncoder.Write(png, image);
            TestProcess.Run("/usr/bin/python3", ["-c", $"from PIL import Image; im = Image.open('{png}'); im.load(); assert im.mode == 'RGB', im.mode; open('{raw}', 'wb').write(im.tobytes())"], folder);
            Assert.Equal(image.Pixels, File.ReadAllBytes(raw));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static RgbImage RandomImage(int width, int height, int seed)
    {
        var pixels = new byte[width * height * 3];
        new Random(seed).NextBytes(pixels);
        return new RgbImage(width, height, pixels);
    }
}
