namespace NativeCnn.Imaging;

/// <summary>
/// Netpbm PPM (P6 binary, P3 ASCII) and PGM (P5 binary, P2 ASCII). Samples are scaled to 0..255 as
/// <c>round(value / maxval * 255)</c> with round-half-even, as PIL's PPM decoders do; maxval may be 1..65535
/// (above 255, samples are 16-bit big-endian). PIL keeps 16-bit PGM as 32-bit mode "I" and clips it when
/// converting to RGB; this decoder scales it like every other depth instead.
/// </summary>
internal static class PnmDecoder
{
    private const string Format = "PPM/PGM";

    public static RgbImage Decode(ReadOnlySpan<byte> data)
    {
        char kind = (char)data[1];
        if (kind is '1' or '4') throw ImageFormatErrors.Unsupported(Format, $"PBM bitmap (P{kind})");
        if (kind == '7') throw ImageFormatErrors.Unsupported(Format, "PAM (P7)");
        bool color = kind is '3' or '6';
        bool ascii = kind is '2' or '3';
        int pos = 2;
        long width = ReadNumber(data, ref pos);
        long height = ReadNumber(data, ref pos);
        long maxval = ReadNumber(data, ref pos);
        if (maxval is < 1 or > 65535) throw ImageFormatErrors.Corrupt(Format, pos, $"maxval {maxval} is outside 1..65535");
        ImageFormatErrors.CheckSize(Format, pos, width, height);
        int channels = color ? 3 : 1;
        long sampleCount = width * height * channels;
        int sampleBytes = maxval > 255 ? 2 : 1;
        // Check that the data can hold the raster before allocating for it: an ASCII sample needs at least a
        // digit and a separator, a binary one 1 or 2 bytes.
        long minimum = ascii ? 2 * sampleCount - 1 : sampleCount * sampleBytes + 1;
        if (data.Length - pos < minimum)
            throw ImageFormatErrors.Corrupt(Format, data.Length, $"truncated raster: {sampleCount} samples need at least {minimum} bytes, {data.Length - pos} remain");
        var image = new RgbImage((int)width, (int)height);
        var pixels = image.Pixels;
        if (ascii)
        {
            // The header ends at the whitespace after maxval; plain samples are whitespace-separated numbers.
            for (long i = 0; i < sampleCount; i++)
            {
                long value = ReadNumber(data, ref pos);
                if (value > maxval) throw ImageFormatErrors.Corrupt(Format, pos, $"sample {value} exceeds maxval {maxval}");
                Store(pixels, i, Scale((int)value, (int)maxval), color);
            }
            return image;
        }
        // Exactly one whitespace byte separates maxval from the binary raster.
        if (pos >= data.Length || !IsWhitespace(data[pos])) throw ImageFormatErrors.Corrupt(Format, pos, "expected whitespace after maxval");
        pos++;
        var raster = data.Slice(pos);
        if (maxval == 255 && color)
        {
            raster.Slice(0, (int)sampleCount).CopyTo(pixels);
            return image;
        }
        Span<byte> lookup = stackalloc byte[256];
        for (int v = 0; v < 256; v++) lookup[v] = v <= maxval ? Scale(v, (int)maxval) : (byte)0;
        for (long i = 0; i < sampleCount; i++)
        {
            int value = sampleBytes == 1 ? raster[(int)i] : (raster[(int)(2 * i)] << 8) | raster[(int)(2 * i + 1)];
            if (value > maxval) throw ImageFormatErrors.Corrupt(Format, pos + i * sampleBytes, $"sample {value} exceeds maxval {maxval}");
            Store(pixels, i, sampleBytes == 1 ? lookup[value] : Scale(value, (int)maxval), color);
        }
        return image;
    }

    private static void Store(byte[] pixels, long sample, byte value, bool color)
    {
        if (color) pixels[sample] = value;
        else pixels[3 * sample] = pixels[3 * sample + 1] = pixels[3 * sample + 2] = value;
    }

    /// <summary>PIL's <c>round(value / maxval * 255)</c>, in the same double arithmetic and with the same round-half-even.</summary>
    private static byte Scale(int value, int maxval) =>
        maxval == 255 ? (byte)value : (byte)Math.Min(255, Math.Round(value / (double)maxval * 255.0));

    /// <summary>Skips whitespace and <c>#</c> comments (PIL accepts them between samples too), then reads a decimal number.</summary>
    private static long ReadNumber(ReadOnlySpan<byte> data, ref int pos)
    {
        while (pos < data.Length)
        {
            if (IsWhitespace(data[pos])) pos++;
            else if (data[pos] == (byte)'#')
                while (pos < data.Length && data[pos] != (byte)'\n' && data[pos] != (byte)'\r') pos++;
            else break;
        }
        if (pos >= data.Length) throw ImageFormatErrors.Corrupt(Format, pos, "truncated: expected a number");
        int start = pos;
        long value = 0;
        while (pos < data.Length && data[pos] is >= (byte)'0' and <= (byte)'9')
        {
            value = value * 10 + (data[pos] - '0');
            if (value > int.MaxValue) throw ImageFormatErrors.Corrupt(Format, start, "number too large");
            pos++;
        }
        if (pos == start) throw ImageFormatErrors.Corrupt(Format, pos, $"expected a decimal number, found byte 0x{data[pos]:X2}");
        return value;
    }

    private static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;
}
