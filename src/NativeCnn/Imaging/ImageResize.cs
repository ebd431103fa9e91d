namespace NativeCnn.Imaging;

/// <summary>
/// Resizes an <see cref="RgbImage"/> exactly as Keras <c>load_img(path, target_size=(height, width), interpolation=…)</c>
/// does, i.e. as PIL's <c>Image.resize((width, height), resample)</c> in its default form (no box, no reducing gap).
/// </summary>
public static class ImageResize
{
    // PIL's fixed-point precision for 8-bit resampling (Resample.c, PRECISION_BITS = 32 - 8 - 2).
    private const int PrecisionBits = 22;

    /// <summary>Returns a resized copy; the source is left as it is.</summary>
    /// <param name="source">The image to resize.</param>
    /// <param name="width">The target width (Keras's <c>target_size[1]</c>).</param>
    /// <param name="height">The target height (Keras's <c>target_size[0]</c>).</param>
    /// <param name="interpolation">The filter; Keras's default is <see cref="ResizeInterpolation.Nearest"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The target size is not a valid <see cref="RgbImage"/> size, or the filter is unknown.</exception>
    public static RgbImage Resize(RgbImage source, int width, int height, ResizeInterpolation interpolation = ResizeInterpolation.Nearest)
    {
        ArgumentNullException.ThrowIfNull(source);
        var result = new RgbImage(width, height);
        if (width == source.Width && height == source.Height)
        {
            source.Pixels.CopyTo(result.Pixels, 0);
            return result;
        }
        switch (interpolation)
        {
            case ResizeInterpolation.Nearest:
                Nearest(source, result);
                break;
            case ResizeInterpolation.Bilinear:
                Bilinear(source, result);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(interpolation), interpolation, "Unknown interpolation.");
        }
        return result;
    }

    /// <summary>
    /// PIL's ImagingScaleAffine: the source coordinate starts at half a step and advances by the step in double
    /// precision, accumulated rather than multiplied, which decides the rare ties the same way PIL does.
    /// </summary>
    private static void Nearest(RgbImage source, RgbImage result)
    {
        var columns = new int[result.Width];
        double step = (double)source.Width / result.Width;
        double position = step * 0.5;
        for (int x = 0; x < columns.Length; x++, position += step) columns[x] = Math.Min((int)position, source.Width - 1);
        double rowStep = (double)source.Height / result.Height;
        double row = rowStep * 0.5;
        var src = source.Pixels;
        var dst = result.Pixels;
        for (int y = 0; y < result.Height; y++, row += rowStep)
        {
            int sourceRow = Math.Min((int)row, source.Height - 1) * source.Width * 3;
            int o = y * result.Width * 3;
            for (int x = 0; x < columns.Length; x++, o += 3)
            {
                int s = sourceRow + columns[x] * 3;
                dst[o] = src[s];
                dst[o + 1] = src[s + 1];
                dst[o + 2] = src[s + 2];
            }
        }
    }

    /// <summary>
    /// PIL's ImagingResample with the bilinear filter: a horizontal pass into 8-bit rows, then a vertical pass, each
    /// with per-output weights normalized to sum 1 and converted to 22-bit fixed point.
    /// </summary>
    private static void Bilinear(RgbImage source, RgbImage result)
    {
        byte[] horizontal = source.Pixels;
        if (result.Width != source.Width)
        {
            horizontal = new byte[source.Height * result.Width * 3];
            var (bounds, weights, support) = Coefficients(source.Width, result.Width);
            for (int y = 0; y < source.Height; y++)
            {
                var input = source.Pixels.AsSpan(y * source.Width * 3, source.Width * 3);
                var output = horizontal.AsSpan(y * result.Width * 3, result.Width * 3);
                for (int x = 0; x < result.Width; x++)
                {
                    int first = bounds[2 * x], count = bounds[2 * x + 1];
                    var k = weights.AsSpan(x * support, count);
                    int r = 1 << (PrecisionBits - 1), g = r, b = r;
                    for (int i = 0; i < count; i++)
                    {
                        int s = (first + i) * 3;
                        r += input[s] * k[i];
                        g += input[s + 1] * k[i];
                        b += input[s + 2] * k[i];
                    }
                    output[3 * x] = Clip8(r);
                    output[3 * x + 1] = Clip8(g);
                    output[3 * x + 2] = Clip8(b);
                }
            }
        }
        int rowLength = result.Width * 3;
        if (result.Height == source.Height)
        {
            horizontal.AsSpan(0, result.Pixels.Length).CopyTo(result.Pixels);
            return;
        }
        var (rowBounds, rowWeights, rowSupport) = Coefficients(source.Height, result.Height);
        for (int y = 0; y < result.Height; y++)
        {
            int first = rowBounds[2 * y], count = rowBounds[2 * y + 1];
            var k = rowWeights.AsSpan(y * rowSupport, count);
            var output = result.Pixels.AsSpan(y * rowLength, rowLength);
            for (int x = 0; x < rowLength; x++)
            {
                int sum = 1 << (PrecisionBits - 1);
                for (int i = 0; i < count; i++) sum += horizontal[(first + i) * rowLength + x] * k[i];
                output[x] = Clip8(sum);
            }
        }
    }

    /// <summary>
    /// PIL's precompute_coeffs for the triangle filter (support 1, widened by the scale when downscaling) followed by
    /// normalize_coeffs_8bpc: per output index, the first input index, the input count, and fixed-point weights.
    /// </summary>
    private static (int[] Bounds, int[] Weights, int Support) Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = 1.0 * filterScale;
        int kernelSize = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var weights = new int[outSize * kernelSize];
        Span<double> k = kernelSize <= 256 ? stackalloc double[kernelSize] : new double[kernelSize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            // C casts truncate toward zero; that is PIL's rounding here, negatives included.
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            double total = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Triangle((x + xmin - center + 0.5) * ss);
                k[x] = w;
                total += w;
            }
            for (int x = 0; x < xmax; x++)
            {
                double normalized = total != 0.0 ? k[x] / total : k[x];
                weights[xx * kernelSize + x] = normalized < 0
                    ? (int)(-0.5 + normalized * (1 << PrecisionBits))
                    : (int)(0.5 + normalized * (1 << PrecisionBits));
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return (bounds, weights, kernelSize);
    }

    private static double Triangle(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static byte Clip8(int value)
    {
        if (value >= 1 << (PrecisionBits + 8)) return 255;
        if (value <= 0) return 0;
        return (byte)(value >> PrecisionBits);
    }
}
