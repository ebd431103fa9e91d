namespace NativeCnn.Imaging;

/// <summary>Builds the exceptions decoders throw, so every message names the format and the byte offset.</summary>
internal static class ImageFormatErrors
{
    public static InvalidDataException Corrupt(string format, long offset, string message) =>
        new($"{format}: {message} (at byte offset {offset}).");

    public static NotSupportedException Unsupported(string format, string feature) =>
        new($"{format}: {feature} is not supported.");

    /// <summary>Rejects header dimensions before anything is allocated for them.</summary>
    public static void CheckSize(string format, long offset, long width, long height)
    {
        if (!RgbImage.IsSizeAllowed(width, height))
            throw Corrupt(format, offset, $"image size {width}x{height} is outside 1..{RgbImage.MaxSide} per side or above {RgbImage.MaxPixels} pixels");
    }
}
