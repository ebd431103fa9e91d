using NativeCnn.Imaging;

namespace NativeCnn.Visualization;

/// <summary>An RGB raster with the few primitives the pictures need: filled rectangles and bitmap-font text, clipped to the canvas.</summary>
internal sealed class Canvas
{
    /// <summary>The largest side a picture may have, so a huge model or map cannot ask for gigabytes.</summary>
    public const int MaxSide = 8192;

    private readonly byte[] _pixels;

    public Canvas(int width, int height, (byte R, byte G, byte B) background)
    {
        if (width < 1 || height < 1 || width > MaxSide || height > MaxSide)
            throw new ArgumentOutOfRangeException(nameof(width), $"a picture must be 1 to {MaxSide} pixels a side, got {width} x {height}");
        Width = width;
        Height = height;
        _pixels = new byte[width * height * 3];
        FillRectangle(0, 0, width, height, background);
    }

    public int Width { get; }

    public int Height { get; }

    public void SetPixel(int x, int y, (byte R, byte G, byte B) color)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) return;
        int i = (y * Width + x) * 3;
        _pixels[i] = color.R;
        _pixels[i + 1] = color.G;
        _pixels[i + 2] = color.B;
    }

    public void FillRectangle(int x, int y, int width, int height, (byte R, byte G, byte B) color)
    {
        int x0 = Math.Max(0, x), y0 = Math.Max(0, y);
        int x1 = (int)Math.Min(Width, (long)x + width), y1 = (int)Math.Min(Height, (long)y + height);
        for (int row = y0; row < y1; row++)
        {
            for (int column = x0; column < x1; column++) SetPixel(column, row, color);
        }
    }

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (x, y); returns the x after the last glyph.</summary>
    public int DrawText(int x, int y, string text, (byte R, byte G, byte B) color)
    {
        foreach (char c in text)
        {
            for (int row = 0; row < BitmapFont.Height; row++)
            {
                int bits = BitmapFont.Row(c, row);
                for (int column = 0; column < BitmapFont.Width; column++)
                {
                    if ((bits & (1 << (BitmapFont.Width - 1 - column))) != 0) SetPixel(x + column, y + row, color);
                }
            }
            x += BitmapFont.Width;
        }
        return x;
    }

    public RgbImage ToImage() => new(Width, Height, _pixels);
}
