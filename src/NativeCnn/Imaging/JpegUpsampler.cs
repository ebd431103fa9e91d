namespace NativeCnn.Imaging;

/// <summary>
/// Chroma upsampling as libjpeg's jdsample.c does it by default (do_fancy_upsampling): triangle filters for
/// 2×1 (h2v1), 2×2 (h2v2) and 1×2 (h1v2) ratios with libjpeg's biases, and pixel replication for other integral
/// ratios and for components 2 samples wide or less. Edges replicate the last real sample and row.
/// </summary>
internal static class JpegUpsampler
{
    /// <summary>Writes output row <paramref name="y"/> of a component, at full image width, into <paramref name="row"/>.</summary>
    /// <param name="plane">The component's decoded samples.</param>
    /// <param name="stride">Bytes per plane row.</param>
    /// <param name="width">The component's real width (libjpeg's downsampled_width).</param>
    /// <param name="height">The component's real height (downsampled_height).</param>
    /// <param name="ratioX">Max horizontal sampling factor ÷ this component's.</param>
    /// <param name="ratioY">Max vertical sampling factor ÷ this component's.</param>
    /// <param name="y">The output row.</param>
    /// <param name="row">Receives the row, as many samples as it is long (the image width).</param>
    /// <param name="columnSums">Scratch of at least <paramref name="width"/> entries.</param>
    public static void Row(byte[] plane, int stride, int width, int height, int ratioX, int ratioY, int y, Span<byte> row, Span<int> columnSums)
    {
        int outWidth = row.Length;
        if (ratioX == 1 && ratioY == 1)
        {
            plane.AsSpan(y * stride, outWidth).CopyTo(row);
            return;
        }
        bool fancy = width > 2;
        if (ratioX == 2 && ratioY == 1 && fancy)
        {
            var input = plane.AsSpan(y * stride, width);
            for (int i = 0; i < width; i++) columnSums[i] = input[i];
            Widen(columnSums[..width], row, leftBias: 1, rightBias: 2, shift: 2);
            return;
        }
        if (ratioX == 1 && ratioY == 2)
        {
            int inRow = y / 2;
            bool upper = y % 2 == 0;
            var near = plane.AsSpan(inRow * stride, width);
            var far = plane.AsSpan(Math.Clamp(upper ? inRow - 1 : inRow + 1, 0, height - 1) * stride, width);
            int bias = upper ? 1 : 2;
            for (int i = 0; i < width && i < outWidth; i++) row[i] = (byte)((near[i] * 3 + far[i] + bias) >> 2);
            return;
        }
        if (ratioX == 2 && ratioY == 2 && fancy)
        {
            int inRow = y / 2;
            var near = plane.AsSpan(inRow * stride, width);
            var far = plane.AsSpan(Math.Clamp(y % 2 == 0 ? inRow - 1 : inRow + 1, 0, height - 1) * stride, width);
            for (int i = 0; i < width; i++) columnSums[i] = near[i] * 3 + far[i];
            Widen(columnSums[..width], row, leftBias: 8, rightBias: 7, shift: 4);
            return;
        }
        // int_upsample / h2v1_upsample / h2v2_upsample: replication.
        var source = plane.AsSpan((y / ratioY) * stride, stride);
        for (int x = 0; x < outWidth; x++) row[x] = source[Math.Min(x / ratioX, stride - 1)];
    }

    /// <summary>
    /// The horizontal 2× triangle filter of h2v1 and h2v2 (the latter on column sums already 4× scaled): output 2i is
    /// <c>(3 s[i] + s[i-1] + leftBias) &gt;&gt; shift</c>, output 2i+1 the same towards s[i+1]; edges replicate the last sample.
    /// </summary>
    private static void Widen(ReadOnlySpan<int> samples, Span<byte> row, int leftBias, int rightBias, int shift)
    {
        int width = samples.Length, outWidth = row.Length;
        for (int i = 0; i < width && 2 * i < outWidth; i++)
        {
            int three = samples[i] * 3;
            int left = samples[Math.Max(i - 1, 0)], right = samples[Math.Min(i + 1, width - 1)];
            row[2 * i] = (byte)((three + left + leftBias) >> shift);
            if (2 * i + 1 < outWidth) row[2 * i + 1] = (byte)((three + right + rightBias) >> shift);
        }
    }
}
