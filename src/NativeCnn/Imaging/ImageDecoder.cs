namespace NativeCnn.Imaging;

/// <summary>
/// Decodes PNG, baseline and progressive JPEG and binary or ASCII PPM/PGM files into an <see cref="RgbImage"/>, with no
/// dependency beyond the base library (PNG inflates with <see cref="System.IO.Compression.ZLibStream"/>).
/// The format is sniffed from the file's signature, never from its extension.
/// </summary>
/// <remarks>
/// The result is what Keras <c>load_img(path, color_mode="rgb")</c> gives, i.e. PIL's <c>Image.open(path).convert("RGB")</c>:
/// grayscale is replicated to three channels, palettes are looked up, and alpha is dropped (not composited over a
/// background). JPEG follows libjpeg's defaults (integer "islow" IDCT, fancy chroma upsampling, its fixed-point
/// YCbCr→RGB), which makes the pixels identical to PIL's on every file of the test corpus. Like PIL's <c>open</c>,
/// EXIF orientation is not applied. Malformed data throws <see cref="InvalidDataException"/>
/// naming the byte offset; valid files using features outside this subset throw <see cref="NotSupportedException"/>
/// naming the feature. Header sizes are checked against <see cref="RgbImage.MaxSide"/> and <see cref="RgbImage.MaxPixels"/>
/// before any pixel memory is allocated, and every loop is bounded by the input length or the image size; a progressive
/// JPEG's coefficient buffer is bounded by <see cref="MaxJpegCoefficientBytes"/> and its scans by 256. GIF, WebP, BMP,
/// TIFF, AVIF and HEIC files are recognized by their signatures and refused with <see cref="NotSupportedException"/>
/// naming the format.
/// </remarks>
public static class ImageDecoder
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// The largest image file read (256 MiB): far above any photo or scan the decoders accept (a PNG of
    /// <see cref="RgbImage.MaxPixels"/> pixels compresses well below it), and it keeps a device, a pipe or a huge file
    /// named as an image from being read whole.
    /// </summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>
    /// The largest coefficient buffer a progressive JPEG may need (1 GiB, 2 bytes per coefficient, 64 per 8×8 block):
    /// a progressive file is decoded scan by scan into coefficients for the whole image, 6 bytes per pixel at 4:4:4 and
    /// 3 at 4:2:0, so this admits 4:2:0 images of <see cref="RgbImage.MaxPixels"/> and 4:4:4 ones of about 178 megapixels.
    /// Larger ones are refused from the frame header, before anything is allocated for them.
    /// </summary>
    public const long MaxJpegCoefficientBytes = 1L << 30;

    /// <summary>Reads and decodes an image file.</summary>
    /// <remarks>
    /// At most <see cref="MaxFileBytes"/> are read, counted as they arrive, so a file that grows, a device such as
    /// <c>/dev/zero</c> or a pipe cannot make the reader allocate without bound. Errors start with the path.
    /// </remarks>
    /// <exception cref="InvalidDataException">The file is not a well-formed image of a known format, or is larger than <see cref="MaxFileBytes"/>.</exception>
    /// <exception cref="NotSupportedException">The file uses a format feature this decoder does not implement.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static RgbImage Decode(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] data = ReadBounded(path);
        try
        {
            return Decode(data);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"{path}: {e.Message}", e);
        }
    }

    private static byte[] ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        // A regular file is read to the length it has when opened (a device such as /dev/zero reports 0); more bytes
        // than that, or than MaxFileBytes from a pipe, are refused rather than read.
        long limit = stream.CanSeek ? stream.Length : MaxFileBytes;
        if (limit > MaxFileBytes)
            throw new InvalidDataException($"{path}: {limit} bytes is more than the {MaxFileBytes} an image file may have.");
        var bytes = new MemoryStream((int)Math.Min(limit, 1 << 20));
        var chunk = new byte[1 << 16];
        int read;
        while ((read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, limit + 1 - bytes.Length))) > 0)
        {
            bytes.Write(chunk, 0, read);
            if (bytes.Length > limit)
                throw new InvalidDataException(stream.CanSeek
                    ? $"{path}: the file has more than the {limit} bytes it reported when opened (a device or a growing file), refused."
                    : $"{path}: more than the {MaxFileBytes} bytes an image file may have.");
        }
        return bytes.ToArray();
    }

    /// <summary>Decodes an image held in memory.</summary>
    /// <exception cref="InvalidDataException">The data is not a well-formed image of a known format.</exception>
    /// <exception cref="NotSupportedException">The data uses a format feature this decoder does not implement.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(PngSignature)) return PngDecoder.Decode(data);
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return JpegDecoder.Decode(data);
        if (data.Length >= 2 && data[0] == (byte)'P' && data[1] is >= (byte)'1' and <= (byte)'7') return PnmDecoder.Decode(data);
        if (OtherFormat(data) is { } format)
            throw new NotSupportedException($"{format} images are not supported (only PNG, JPEG and PPM/PGM); convert the file to PNG or JPEG first.");
        throw new InvalidDataException("Unknown image format: the data starts with no PNG, JPEG or PPM/PGM signature (at byte offset 0).");
    }

    /// <summary>The name of a common image format this library does not decode, recognized by its signature, or null.</summary>
    private static string? OtherFormat(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith("GIF87a"u8) || data.StartsWith("GIF89a"u8)) return "GIF";
        if (data.Length >= 12 && data.StartsWith("RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8)) return "WebP";
        if (data.Length >= 14 && data.StartsWith("BM"u8)) return "BMP";
        if (data.StartsWith("II*\0"u8) || data.StartsWith("MM\0*"u8)) return "TIFF";
        // ISO base media files (HEIF) start with an 'ftyp' box whose major brand names the codec.
        if (data.Length >= 12 && data.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            var brand = data.Slice(8, 4);
            if (brand.SequenceEqual("avif"u8) || brand.SequenceEqual("avis"u8)) return "AVIF";
            if (brand.SequenceEqual("heic"u8) || brand.SequenceEqual("heix"u8) || brand.SequenceEqual("heim"u8) ||
                brand.SequenceEqual("heis"u8) || brand.SequenceEqual("hevc"u8) || brand.SequenceEqual("hevx"u8)) return "HEIC";
            if (brand.SequenceEqual("mif1"u8) || brand.SequenceEqual("msf1"u8)) return "HEIF (AVIF or HEIC)";
        }
        return null;
    }
}
