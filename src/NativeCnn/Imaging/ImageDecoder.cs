namespace NativeCnn.Imaging;

/// <summary>
/// Decodes PNG, baseline JPEG and binary or ASCII PPM/PGM files into an <see cref="RgbImage"/>, with no
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
/// before any pixel memory is allocated, and every loop is bounded by the input length or the image size.
/// </remarks>
public static class ImageDecoder
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Reads and decodes an image file.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed image of a known format.</exception>
    /// <exception cref="NotSupportedException">The file uses a format feature this decoder does not implement.</exception>
    public static RgbImage Decode(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Decode(File.ReadAllBytes(path));
    }

    /// <summary>Decodes an image held in memory.</summary>
    /// <exception cref="InvalidDataException">The data is not a well-formed image of a known format.</exception>
    /// <exception cref="NotSupportedException">The data uses a format feature this decoder does not implement.</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(PngSignature)) return PngDecoder.Decode(data);
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return JpegDecoder.Decode(data);
        if (data.Length >= 2 && data[0] == (byte)'P' && data[1] is >= (byte)'1' and <= (byte)'7') return PnmDecoder.Decode(data);
        throw new InvalidDataException("Unknown image format: the data starts with no PNG, JPEG or PPM/PGM signature (at byte offset 0).");
    }
}
