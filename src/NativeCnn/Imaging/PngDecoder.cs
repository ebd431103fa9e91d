using System.Buffers.Binary;
using System.IO.Compression;

namespace NativeCnn.Imaging;

/// <summary>
/// PNG: every color type (gray, RGB, palette, gray+alpha, RGBA), bit depths 1–16, Adam7 interlacing, the five
/// row filters, CRC-checked chunks, IDAT streams concatenated and inflated with <see cref="ZLibStream"/>.
/// </summary>
/// <remarks>
/// Conversion to RGB follows PIL's <c>convert("RGB")</c>: alpha and tRNS are dropped, gray is replicated,
/// low bit depths are scaled (×255, ×85, ×17), and 16-bit samples keep their high byte. PIL opens 16-bit
/// gray as 32-bit mode "I" and clips it to 0..255; this decoder takes the high byte there too, so 16-bit gray
/// is the one case that differs from PIL (PIL's result is nearly all white). Palette indices past the end of
/// PLTE give gray <c>(i, i, i)</c>, as in PIL.
/// </remarks>
internal static class PngDecoder
{
    private const string Format = "PNG";
    private const int SignatureLength = 8;
    private const long MaxDeflateRatio = 1032;

    // Adam7 pass origins and steps, from the PNG specification.
    private static ReadOnlySpan<byte> PassX0 => [0, 4, 0, 2, 0, 1, 0];
    private static ReadOnlySpan<byte> PassY0 => [0, 0, 4, 0, 2, 0, 1];
    private static ReadOnlySpan<byte> PassDx => [8, 8, 4, 4, 2, 2, 1];
    private static ReadOnlySpan<byte> PassDy => [8, 8, 8, 4, 4, 2, 2];

    private readonly record struct Header(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
    {
        public int Channels => ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        public int BitsPerPixel => Channels * BitDepth;
        /// <summary>The byte distance the filters look back: one whole pixel, or one byte below 8 bits per pixel.</summary>
        public int FilterStride => Math.Max(1, BitsPerPixel / 8);
        public long RowBytes(int width) => ((long)width * BitsPerPixel + 7) / 8;
    }

    public static RgbImage Decode(ReadOnlySpan<byte> data)
    {
        Header? header = null;
        byte[]? palette = null;
        using var idat = new MemoryStream();
        long firstIdatOffset = -1;
        bool ended = false;
        int pos = SignatureLength;
        while (!ended)
        {
            if (data.Length - pos < 12) throw ImageFormatErrors.Corrupt(Format, pos, "truncated: chunk header expected");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(pos));
            if (length > int.MaxValue || length > data.Length - pos - 12)
                throw ImageFormatErrors.Corrupt(Format, pos, $"chunk length {length} runs past the end of the data");
            var type = data.Slice(pos + 4, 4);
            var body = data.Slice(pos + 8, (int)length);
            uint storedCrc = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(pos + 8 + (int)length));
            if (Crc32(data.Slice(pos + 4, 4 + (int)length)) != storedCrc)
                throw ImageFormatErrors.Corrupt(Format, pos + 8 + length, $"CRC mismatch in chunk '{ChunkName(type)}'");
            string name = ChunkName(type);
            if (header is null && name != "IHDR") throw ImageFormatErrors.Corrupt(Format, pos, $"first chunk is '{name}', not IHDR");
            switch (name)
            {
                case "IHDR":
                    if (header is not null) throw ImageFormatErrors.Corrupt(Format, pos, "second IHDR chunk");
                    header = ParseHeader(body, pos + 8);
                    break;
                case "PLTE":
                    if (length % 3 != 0 || length == 0 || length > 768)
                        throw ImageFormatErrors.Corrupt(Format, pos, $"PLTE length {length} is not 3..768 and a multiple of 3");
                    palette = body.ToArray();
                    break;
                case "IDAT":
                    if (firstIdatOffset < 0) firstIdatOffset = pos + 8;
                    idat.Write(body);
                    break;
                case "IEND":
                    ended = true;
                    break;
                default:
                    // Bit 5 of the first letter clear marks a critical chunk: its meaning would change the image.
                    if ((type[0] & 0x20) == 0) throw ImageFormatErrors.Unsupported(Format, $"critical chunk '{name}'");
                    break;
            }
            pos += 12 + (int)length;
        }
        var h = header!.Value;
        if (firstIdatOffset < 0) throw ImageFormatErrors.Corrupt(Format, pos, "no IDAT chunk");
        if (h.ColorType == 3 && palette is null) throw ImageFormatErrors.Corrupt(Format, pos, "palette image without PLTE chunk");

        long rawSize = RawSize(h);
        // Deflate expands at most 1032:1, so a header claiming more than that is refused before allocating for it.
        if (rawSize > idat.Length * MaxDeflateRatio + 1024)
            throw ImageFormatErrors.Corrupt(Format, firstIdatOffset, $"{idat.Length} bytes of IDAT cannot hold the {rawSize} bytes a {h.Width}x{h.Height} image needs");
        var raw = new byte[rawSize];
        Inflate(idat, raw, firstIdatOffset);
        var image = new RgbImage(h.Width, h.Height);
        if (!h.Interlaced)
        {
            Unfilter(raw, 0, h, h.Width, h.Height, firstIdatOffset);
            ToRgb(raw, 0, h, palette, image, 0, 0, 1, 1, h.Width, h.Height);
            return image;
        }
        int offset = 0;
        for (int pass = 0; pass < 7; pass++)
        {
            int passWidth = PassLength(h.Width, PassX0[pass], PassDx[pass]);
            int passHeight = PassLength(h.Height, PassY0[pass], PassDy[pass]);
            if (passWidth == 0 || passHeight == 0) continue;
            Unfilter(raw, offset, h, passWidth, passHeight, firstIdatOffset);
            ToRgb(raw, offset, h, palette, image, PassX0[pass], PassY0[pass], PassDx[pass], PassDy[pass], passWidth, passHeight);
            offset += (int)(passHeight * (1 + h.RowBytes(passWidth)));
        }
        return image;
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    /// <summary>The CRC-32 of the PNG specification (ISO 3309), computed here to avoid a package dependency.</summary>
    internal static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in bytes) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }

    private static string ChunkName(ReadOnlySpan<byte> type)
    {
        Span<char> chars = stackalloc char[4];
        for (int i = 0; i < 4; i++) chars[i] = type[i] is >= 0x20 and < 0x7F ? (char)type[i] : '?';
        return new string(chars);
    }

    private static Header ParseHeader(ReadOnlySpan<byte> body, long offset)
    {
        if (body.Length != 13) throw ImageFormatErrors.Corrupt(Format, offset, $"IHDR has {body.Length} bytes, not 13");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(body);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(body.Slice(4));
        ImageFormatErrors.CheckSize(Format, offset, width, height);
        int depth = body[8], colorType = body[9];
        bool depthValid = colorType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => throw ImageFormatErrors.Corrupt(Format, offset + 9, $"unknown color type {colorType}"),
        };
        if (!depthValid) throw ImageFormatErrors.Corrupt(Format, offset + 8, $"bit depth {depth} is invalid for color type {colorType}");
        if (body[10] != 0) throw ImageFormatErrors.Corrupt(Format, offset + 10, $"unknown compression method {body[10]}");
        if (body[11] != 0) throw ImageFormatErrors.Corrupt(Format, offset + 11, $"unknown filter method {body[11]}");
        if (body[12] > 1) throw ImageFormatErrors.Corrupt(Format, offset + 12, $"unknown interlace method {body[12]}");
        return new Header((int)width, (int)height, depth, colorType, body[12] == 1);
    }

    private static int PassLength(int size, int origin, int step) => size <= origin ? 0 : (size - origin + step - 1) / step;

    /// <summary>The bytes of filtered scanlines the header implies, refused (before anything is allocated) above one array.</summary>
    private static long RawSize(Header h)
    {
        long total = 0;
        if (!h.Interlaced)
        {
            total = h.Height * (1 + h.RowBytes(h.Width));
        }
        else
        {
            for (int pass = 0; pass < 7; pass++)
            {
                int w = PassLength(h.Width, PassX0[pass], PassDx[pass]);
                int rows = PassLength(h.Height, PassY0[pass], PassDy[pass]);
                if (w > 0) total += rows * (1 + h.RowBytes(w));
            }
        }
        // At most 32768 x 32768 x 64 bits: 2^33 bytes and a little, so the sums above cannot overflow 64 bits.
        if (total > Array.MaxLength)
            throw ImageFormatErrors.Unsupported(Format, $"a {h.Width}x{h.Height} image of {h.BitsPerPixel} bits per pixel ({total} bytes of scanlines, more than the {Array.MaxLength} one buffer holds)");
        return total;
    }

    private static void Inflate(MemoryStream idat, byte[] raw, long idatOffset)
    {
        idat.Position = 0;
        try
        {
            using var zlib = new ZLibStream(idat, CompressionMode.Decompress, leaveOpen: true);
            zlib.ReadExactly(raw);
        }
        catch (EndOfStreamException)
        {
            throw ImageFormatErrors.Corrupt(Format, idatOffset, $"IDAT data inflates to fewer than the {raw.Length} bytes the header implies");
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // zlib reports some corruption (e.g. a bad dictionary request) as an IOException-derived ZLibException.
            throw ImageFormatErrors.Corrupt(Format, idatOffset, $"corrupt zlib stream in IDAT ({e.Message})");
        }
    }

    /// <summary>Reverses the per-row filters in place; each row is a filter-type byte followed by its bytes.</summary>
    private static void Unfilter(byte[] raw, int offset, Header h, int width, int height, long idatOffset)
    {
        int rowBytes = (int)h.RowBytes(width);
        int bpp = h.FilterStride;
        for (int y = 0; y < height; y++)
        {
            int start = offset + y * (rowBytes + 1);
            int filter = raw[start];
            var row = raw.AsSpan(start + 1, rowBytes);
            // The first row of a pass filters against an implicit row of zeros.
            var prior = y == 0 ? default : raw.AsSpan(start - rowBytes, rowBytes);
            switch (filter)
            {
                case 0:
                    break;
                case 1:
                    for (int i = bpp; i < rowBytes; i++) row[i] += row[i - bpp];
                    break;
                case 2:
                    if (y > 0) for (int i = 0; i < rowBytes; i++) row[i] += prior[i];
                    break;
                case 3:
                    for (int i = 0; i < rowBytes; i++)
                    {
                        int left = i >= bpp ? row[i - bpp] : 0;
                        int up = y > 0 ? prior[i] : 0;
                        row[i] += (byte)((left + up) >> 1);
                    }
                    break;
                case 4:
                    for (int i = 0; i < rowBytes; i++)
                    {
                        int left = i >= bpp ? row[i - bpp] : 0;
                        int up = y > 0 ? prior[i] : 0;
                        int upLeft = y > 0 && i >= bpp ? prior[i - bpp] : 0;
                        row[i] += Paeth(left, up, upLeft);
                    }
                    break;
                default:
                    throw ImageFormatErrors.Corrupt(Format, idatOffset, $"unknown filter type {filter} in decompressed row {y}");
            }
        }
    }

    private static byte Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return (byte)a;
        return pb <= pc ? (byte)b : (byte)c;
    }

    /// <summary>Converts unfiltered rows of one pass to RGB, writing pixel <c>(i, j)</c> at <c>(x0 + i·dx, y0 + j·dy)</c>.</summary>
    private static void ToRgb(byte[] raw, int offset, Header h, byte[]? palette, RgbImage image,
                              int x0, int y0, int dx, int dy, int width, int height)
    {
        int rowBytes = (int)h.RowBytes(width);
        int depth = h.BitDepth;
        int channels = h.Channels;
        // Bytes per sample in the row; a 16-bit sample contributes its high (first) byte.
        int sampleStride = depth == 16 ? 2 : 1;
        int grayScale = depth switch { 1 => 255, 2 => 85, 4 => 17, _ => 1 };
        var pixels = image.Pixels;
        for (int j = 0; j < height; j++)
        {
            var row = raw.AsSpan(offset + j * (rowBytes + 1) + 1, rowBytes);
            int outRow = (y0 + j * dy) * image.Width;
            for (int i = 0; i < width; i++)
            {
                int o = (outRow + x0 + i * dx) * 3;
                if (depth < 8)
                {
                    int bit = i * depth;
                    int value = (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
                    if (h.ColorType == 3) LookUp(palette!, value, pixels, o);
                    else pixels[o] = pixels[o + 1] = pixels[o + 2] = (byte)(value * grayScale);
                    continue;
                }
                int s = i * channels * sampleStride;
                switch (h.ColorType)
                {
                    case 0 or 4:
                        pixels[o] = pixels[o + 1] = pixels[o + 2] = row[s];
                        break;
                    case 3:
                        LookUp(palette!, row[s], pixels, o);
                        break;
                    default:
                        pixels[o] = row[s];
                        pixels[o + 1] = row[s + sampleStride];
                        pixels[o + 2] = row[s + 2 * sampleStride];
                        break;
                }
            }
        }
    }

    private static void LookUp(byte[] palette, int index, byte[] pixels, int o)
    {
        if (index * 3 + 2 >= palette.Length)
        {
            // PIL's palette starts as a gray ramp that PLTE overwrites, so indices past a short PLTE read gray.
            pixels[o] = pixels[o + 1] = pixels[o + 2] = (byte)index;
            return;
        }
        pixels[o] = palette[index * 3];
        pixels[o + 1] = palette[index * 3 + 1];
        pixels[o + 2] = palette[index * 3 + 2];
    }
}
