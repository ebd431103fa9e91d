using System.Buffers.Binary;
using System.IO.Compression;

namespace NativeCnn.Imaging;

/// <summary>
/// Writes 8-bit RGB PNG files (the inverse of the decoder's most common case), for pictures of activations, profiles and
/// models: one IDAT stream, every row with filter type 1 (Sub), zlib from <see cref="ZLibStream"/>, CRC-32 per chunk.
/// </summary>
public static class PngEncoder
{
    private static readonly byte[] s_signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/>, replacing the file.</summary>
    public static void Write(string path, RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.Create(path);
        Write(file, image);
    }

    /// <summary>Writes <paramref name="image"/> as a PNG to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(image);
        stream.Write(s_signature);
        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], image.Height);
        header[8] = 8;  // bits per sample
        header[9] = 2;  // colour type: RGB
        header[10] = 0; // deflate
        header[11] = 0; // adaptive filtering
        header[12] = 0; // no interlace
        WriteChunk(stream, "IHDR", header);

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            int rowBytes = image.Width * 3;
            var row = new byte[rowBytes + 1];
            row[0] = 1; // Sub: each byte minus the same channel of the pixel to its left
            for (int y = 0; y < image.Height; y++)
            {
                var source = image.Pixels.AsSpan(y * rowBytes, rowBytes);
                for (int i = 0; i < rowBytes; i++) row[i + 1] = (byte)(source[i] - (i >= 3 ? source[i - 3] : 0));
                zlib.Write(row);
            }
        }
        WriteChunk(stream, "IDAT", compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        WriteChunk(stream, "IEND", []);
    }

    /// <summary>The CRC-32 (ISO-HDLC, as PNG and zlib's <c>crc32</c> define it) of <paramref name="data"/>.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data) => PngDecoder.Crc32(data);

    private static void WriteChunk(Stream stream, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        stream.Write(word);
        var typed = new byte[4 + data.Length]; // the CRC covers the type and the data
        for (int i = 0; i < 4; i++) typed[i] = (byte)type[i];
        data.CopyTo(typed.AsSpan(4));
        stream.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, PngDecoder.Crc32(typed));
        stream.Write(word);
    }
}
