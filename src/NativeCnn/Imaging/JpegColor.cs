namespace NativeCnn.Imaging;

/// <summary>
/// JFIF YCbCr → RGB exactly as libjpeg's jdcolor.c (ycc_rgb_convert): 16-bit fixed-point tables built with
/// FIX(x) = round(x · 2^16), rounding folded into the tables, results clamped to 0..255.
/// </summary>
internal static class JpegColor
{
    private const int ScaleBits = 16;
    private const long OneHalf = 1L << (ScaleBits - 1);
    private static readonly int[] CrToR = new int[256];
    private static readonly int[] CbToB = new int[256];
    private static readonly long[] CrToG = new long[256];
    private static readonly long[] CbToG = new long[256];

    static JpegColor()
    {
        for (int i = 0; i < 256; i++)
        {
            long x = i - 128;
            CrToR[i] = (int)((Fix(1.40200) * x + OneHalf) >> ScaleBits);
            CbToB[i] = (int)((Fix(1.77200) * x + OneHalf) >> ScaleBits);
            CrToG[i] = -Fix(0.71414) * x;
            CbToG[i] = -Fix(0.34414) * x + OneHalf;
        }
    }

    private static long Fix(double x) => (long)(x * (1L << ScaleBits) + 0.5);

    /// <summary>Converts one row of full-resolution Y, Cb, Cr samples to interleaved RGB.</summary>
    public static void YCbCrToRgb(ReadOnlySpan<byte> y, ReadOnlySpan<byte> cb, ReadOnlySpan<byte> cr, Span<byte> rgb)
    {
        int width = rgb.Length / 3;
        for (int x = 0, o = 0; x < width; x++, o += 3)
        {
            int luma = y[x], blue = cb[x], red = cr[x];
            rgb[o] = Clamp(luma + CrToR[red]);
            rgb[o + 1] = Clamp(luma + (int)((CbToG[blue] + CrToG[red]) >> ScaleBits));
            rgb[o + 2] = Clamp(luma + CbToB[blue]);
        }
    }

    private static byte Clamp(int value) => (byte)Math.Clamp(value, 0, 255);
}
