namespace NativeCnn.Imaging;

/// <summary>
/// An 8-bit RGB image: <see cref="Width"/> × <see cref="Height"/> pixels, stored row-major with the three
/// channels interleaved (<c>R, G, B, R, G, B, …</c>), as PIL's <c>Image.convert("RGB")</c> and Keras
/// <c>load_img</c> produce it.
/// </summary>
public sealed class RgbImage
{
    /// <summary>The largest width or height accepted, checked before any pixel memory is allocated.</summary>
    public const int MaxSide = 32768;

    /// <summary>The largest pixel count accepted (2^28, 768 MiB of RGB), checked before any pixel memory is allocated.</summary>
    public const long MaxPixels = 1L << 28;

    /// <summary>Allocates a black image.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A side is not in 1..<see cref="MaxSide"/> or the image is larger than <see cref="MaxPixels"/>.</exception>
    public RgbImage(int width, int height)
    {
        ValidateSize(width, height);
        Width = width;
        Height = height;
        Pixels = new byte[width * height * 3];
    }

    /// <summary>Wraps existing interleaved RGB pixels without copying them.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A side is not in 1..<see cref="MaxSide"/> or the image is larger than <see cref="MaxPixels"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="pixels"/> does not hold exactly <c>width * height * 3</c> bytes.</exception>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ValidateSize(width, height);
        if (pixels.Length != width * height * 3)
            throw new ArgumentException($"A {width}x{height} RGB image needs {width * height * 3} bytes, got {pixels.Length}.", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>The width in pixels.</summary>
    public int Width { get; }

    /// <summary>The height in pixels.</summary>
    public int Height { get; }

    /// <summary>The pixels, row-major, <c>Width * 3</c> bytes per row, channels interleaved as R, G, B.</summary>
    public byte[] Pixels { get; }

    /// <summary>The three channel values of pixel <c>(x, y)</c>.</summary>
    public ReadOnlySpan<byte> this[int x, int y]
    {
        get
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
                throw new ArgumentOutOfRangeException(nameof(x), $"Pixel ({x}, {y}) is outside a {Width}x{Height} image.");
            return Pixels.AsSpan((y * Width + x) * 3, 3);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"RgbImage({Width}x{Height})";

    /// <summary>Whether a decoder may allocate an image of this size; decoders call it on header values.</summary>
    internal static bool IsSizeAllowed(long width, long height) =>
        width is >= 1 and <= MaxSide && height is >= 1 and <= MaxSide && width * height <= MaxPixels;

    private static void ValidateSize(int width, int height)
    {
        if (width is < 1 or > MaxSide) throw new ArgumentOutOfRangeException(nameof(width), width, $"The width must be in 1..{MaxSide}.");
        if (height is < 1 or > MaxSide) throw new ArgumentOutOfRangeException(nameof(height), height, $"The height must be in 1..{MaxSide}.");
        if ((long)width * height > MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(width), $"A {width}x{height} image has more than {MaxPixels} pixels.");
    }
}
