using NativeCnn.Imaging;

namespace NativeCnn.Visualization;

/// <summary>
/// One layer's activation map as a picture: each channel a grayscale tile (black its minimum, white its maximum; a constant
/// channel mid-gray; NaN and infinities red), tiles in a near-square grid one dark pixel apart, small maps enlarged by
/// pixel repetition so a tile is at least <see cref="MinimumTile"/> pixels.
/// </summary>
public static class ActivationGrid
{
    /// <summary>The smallest tile side a map is enlarged to (a 7x7 map becomes 35x35).</summary>
    public const int MinimumTile = 32;

    /// <summary>The gap between tiles, in pixels.</summary>
    public const int Gap = 1;

    private static readonly (byte, byte, byte) s_gap = (40, 40, 40), s_invalid = (230, 30, 30);

    /// <summary>The layout of <paramref name="channels"/> tiles of <paramref name="height"/> x <paramref name="width"/>: columns, rows, enlargement.</summary>
    public static (int Columns, int Rows, int Scale) Layout(int height, int width, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        int columns = (int)Math.Ceiling(Math.Sqrt(channels));
        int rows = (channels + columns - 1) / columns;
        int scale = Math.Max(1, (MinimumTile + Math.Max(height, width) - 1) / Math.Max(height, width));
        return (columns, rows, scale);
    }

    /// <summary>Renders the first image of <paramref name="activation"/>, an NHWC <c>(N, H, W, C)</c> tensor, at most
    /// <paramref name="maxChannels"/> of its channels (the first ones).</summary>
    /// <exception cref="ArgumentException">The tensor is not NHWC, or the grid would exceed the largest picture side.</exception>
    public static RgbImage Render(Tensor activation, int maxChannels = 256)
    {
        ArgumentNullException.ThrowIfNull(activation);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChannels, 1);
        var shape = activation.Shape;
        if (shape.Rank != 4) throw new ArgumentException($"an activation map is NHWC (rank 4), got {shape}; a (batch, features) output has no map to draw.", nameof(activation));
        int h = shape.Height, w = shape.Width, c = shape.Channels, shown = Math.Min(c, maxChannels);
        var (columns, rows, scale) = Layout(h, w, shown);
        long width = Gap + (long)columns * (w * scale + Gap), height = Gap + (long)rows * (h * scale + Gap);
        if (width > Canvas.MaxSide || height > Canvas.MaxSide)
            throw new ArgumentException($"{shown} channels of {h}x{w} make a {width} x {height} picture, more than {Canvas.MaxSide} a side; show fewer channels.", nameof(maxChannels));
        var canvas = new Canvas((int)width, (int)height, s_gap);
        var data = activation.Span;
        for (int channel = 0; channel < shown; channel++)
        {
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            for (int p = 0; p < h * w; p++)
            {
                float v = data[p * c + channel];
                if (!float.IsFinite(v)) continue;
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            double range = max - (double)min;
            int left = Gap + channel % columns * (w * scale + Gap), top = Gap + channel / columns * (h * scale + Gap);
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    float v = data[(y * w + x) * c + channel];
                    var color = !float.IsFinite(v) ? s_invalid : Gray(range > 0 ? (v - min) / range : 0.5);
                    canvas.FillRectangle(left + x * scale, top + y * scale, scale, scale, color);
                }
            }
        }
        return canvas.ToImage();
    }

    /// <summary>Renders and writes a PNG (see <see cref="Render"/>).</summary>
    public static void WritePng(string path, Tensor activation, int maxChannels = 256) => PngEncoder.Write(path, Render(activation, maxChannels));

    private static (byte, byte, byte) Gray(double fraction)
    {
        byte level = (byte)Math.Round(Math.Clamp(fraction, 0, 1) * 255);
        return (level, level, level);
    }
}
