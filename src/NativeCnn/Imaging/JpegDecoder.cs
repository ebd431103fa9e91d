namespace NativeCnn.Imaging;

/// <summary>Baseline JPEG.</summary>
internal static class JpegDecoder
{
    public static RgbImage Decode(ReadOnlySpan<byte> data) => throw ImageFormatErrors.Unsupported("JPEG", "JPEG");
}
