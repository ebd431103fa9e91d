namespace NativeCnn.Imaging;

/// <summary>
/// libjpeg's accurate integer inverse DCT, jpeg_idct_islow (jidctint.c: the Loeffler–Ligtenberg–Moschytz
/// algorithm in 13-bit fixed point, 2 extra bits between passes), reproduced operation for operation so that
/// decoded samples match libjpeg and therefore PIL.
/// </summary>
internal static class JpegIdct
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;
    private const long Fix0_298631336 = 2446;
    private const long Fix0_390180644 = 3196;
    private const long Fix0_541196100 = 4433;
    private const long Fix0_765366865 = 6270;
    private const long Fix0_899976223 = 7373;
    private const long Fix1_175875602 = 9633;
    private const long Fix1_501321110 = 12299;
    private const long Fix1_847759065 = 15137;
    private const long Fix1_961570560 = 16069;
    private const long Fix2_053119869 = 16819;
    private const long Fix2_562915447 = 20995;
    private const long Fix3_072711026 = 25172;

    /// <summary>
    /// libjpeg's IDCT range-limit table, indexed by <c>value &amp; 1023</c>: clamps −128..127 (+128) to 0..255 over
    /// ±512 and wraps beyond, as libjpeg does for corrupt coefficients.
    /// </summary>
    private static readonly byte[] RangeLimit = BuildRangeLimit();

    private static byte[] BuildRangeLimit()
    {
        var table = new byte[1024];
        for (int i = 0; i < 1024; i++)
        {
            int x = i < 512 ? i : i - 1024;
            table[i] = (byte)Math.Clamp(x + 128, 0, 255);
        }
        return table;
    }

    /// <summary>Dequantizes <paramref name="coefficients"/> (natural order) and writes the 8×8 samples to <paramref name="output"/>.</summary>
    public static void InverseDctIslow(ReadOnlySpan<short> coefficients, ReadOnlySpan<ushort> quant, Span<int> workspace, Span<byte> output, int stride)
    {
        // Pass 1: columns, into the workspace, scaled up by 2^Pass1Bits.
        for (int col = 0; col < 8; col++)
        {
            if (coefficients[8 + col] == 0 && coefficients[16 + col] == 0 && coefficients[24 + col] == 0 && coefficients[32 + col] == 0 &&
                coefficients[40 + col] == 0 && coefficients[48 + col] == 0 && coefficients[56 + col] == 0)
            {
                int dc = coefficients[col] * quant[col] << Pass1Bits;
                for (int row = 0; row < 8; row++) workspace[row * 8 + col] = dc;
                continue;
            }
            long z2 = coefficients[16 + col] * quant[16 + col];
            long z3 = coefficients[48 + col] * quant[48 + col];
            long z1 = (z2 + z3) * Fix0_541196100;
            long tmp2 = z1 + z3 * -Fix1_847759065;
            long tmp3 = z1 + z2 * Fix0_765366865;
            z2 = coefficients[col] * quant[col];
            z3 = coefficients[32 + col] * quant[32 + col];
            long tmp0 = (z2 + z3) << ConstBits;
            long tmp1 = (z2 - z3) << ConstBits;
            long tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

            tmp0 = coefficients[56 + col] * quant[56 + col];
            tmp1 = coefficients[40 + col] * quant[40 + col];
            tmp2 = coefficients[24 + col] * quant[24 + col];
            tmp3 = coefficients[8 + col] * quant[8 + col];
            Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            const int shift = ConstBits - Pass1Bits;
            workspace[col] = (int)Descale(tmp10 + tmp3, shift);
            workspace[56 + col] = (int)Descale(tmp10 - tmp3, shift);
            workspace[8 + col] = (int)Descale(tmp11 + tmp2, shift);
            workspace[48 + col] = (int)Descale(tmp11 - tmp2, shift);
            workspace[16 + col] = (int)Descale(tmp12 + tmp1, shift);
            workspace[40 + col] = (int)Descale(tmp12 - tmp1, shift);
            workspace[24 + col] = (int)Descale(tmp13 + tmp0, shift);
            workspace[32 + col] = (int)Descale(tmp13 - tmp0, shift);
        }

        // Pass 2: rows, descaled by 2^(Pass1Bits + 3) as well (the 1/8 of the 2-D IDCT), then range-limited.
        for (int row = 0; row < 8; row++)
        {
            var w = workspace.Slice(row * 8, 8);
            var o = output.Slice(row * stride, 8);
            if (w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0)
            {
                o.Fill(RangeLimit[(int)Descale(w[0], Pass1Bits + 3) & 1023]);
                continue;
            }
            long z2 = w[2], z3 = w[6];
            long z1 = (z2 + z3) * Fix0_541196100;
            long tmp2 = z1 + z3 * -Fix1_847759065;
            long tmp3 = z1 + z2 * Fix0_765366865;
            long tmp0 = ((long)w[0] + w[4]) << ConstBits;
            long tmp1 = ((long)w[0] - w[4]) << ConstBits;
            long tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

            tmp0 = w[7];
            tmp1 = w[5];
            tmp2 = w[3];
            tmp3 = w[1];
            Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            const int shift = ConstBits + Pass1Bits + 3;
            o[0] = RangeLimit[(int)Descale(tmp10 + tmp3, shift) & 1023];
            o[7] = RangeLimit[(int)Descale(tmp10 - tmp3, shift) & 1023];
            o[1] = RangeLimit[(int)Descale(tmp11 + tmp2, shift) & 1023];
            o[6] = RangeLimit[(int)Descale(tmp11 - tmp2, shift) & 1023];
            o[2] = RangeLimit[(int)Descale(tmp12 + tmp1, shift) & 1023];
            o[5] = RangeLimit[(int)Descale(tmp12 - tmp1, shift) & 1023];
            o[3] = RangeLimit[(int)Descale(tmp13 + tmp0, shift) & 1023];
            o[4] = RangeLimit[(int)Descale(tmp13 - tmp0, shift) & 1023];
        }
    }

    /// <summary>The odd part, shared by both passes: inputs are coefficients 7, 5, 3, 1; outputs are tmp0..tmp3.</summary>
    private static void Odd(ref long tmp0, ref long tmp1, ref long tmp2, ref long tmp3)
    {
        long z1 = tmp0 + tmp3, z2 = tmp1 + tmp2, z3 = tmp0 + tmp2, z4 = tmp1 + tmp3;
        long z5 = (z3 + z4) * Fix1_175875602;
        tmp0 *= Fix0_298631336;
        tmp1 *= Fix2_053119869;
        tmp2 *= Fix3_072711026;
        tmp3 *= Fix1_501321110;
        z1 *= -Fix0_899976223;
        z2 *= -Fix2_562915447;
        z3 = z3 * -Fix1_961570560 + z5;
        z4 = z4 * -Fix0_390180644 + z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;
    }

    /// <summary>libjpeg's DESCALE: a right shift rounding half up (arithmetic shift, as RIGHT_SHIFT on signed values).</summary>
    private static long Descale(long x, int n) => (x + (1L << (n - 1))) >> n;
}
