namespace NativeCnn.Imaging;

/// <summary>
/// A canonical Huffman table from a DHT segment (JPEG Annex C), with a 9-bit lookup for short codes and
/// the per-length maximum codes of Annex F.2.2.3 for the rest.
/// </summary>
internal sealed class JpegHuffmanTable
{
    public const int LookupBits = 9;

    /// <summary>Indexed by the next 9 bits: <c>(length &lt;&lt; 8) | symbol</c>, or 0 when the code is longer.</summary>
    public readonly ushort[] Lookup = new ushort[1 << LookupBits];

    /// <summary>The largest code of each length 1..16, or -1 when there is none; index 17 is a sentinel.</summary>
    public readonly int[] MaxCode = new int[18];

    /// <summary>Added to a code of a given length to index <see cref="Symbols"/>.</summary>
    public readonly int[] SymbolOffset = new int[17];

    public readonly byte[] Symbols;

    /// <param name="counts">The number of codes of each length 1..16 (16 entries).</param>
    /// <param name="symbols">The symbols in code order.</param>
    /// <param name="offset">The byte offset of the table in the file, for error messages.</param>
    public JpegHuffmanTable(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> symbols, long offset)
    {
        Symbols = symbols.ToArray();
        int code = 0, k = 0;
        for (int length = 1; length <= 16; length++)
        {
            int n = counts[length - 1];
            SymbolOffset[length] = k - code;
            for (int i = 0; i < n; i++, code++, k++)
            {
                // Annex C: the codes of a length must stay below 2^length, or the lengths are not a valid prefix code.
                if (code >= 1 << length) throw ImageFormatErrors.Corrupt("JPEG", offset, "Huffman table has more codes than its lengths allow");
                if (length <= LookupBits)
                {
                    int first = code << (LookupBits - length);
                    int span = 1 << (LookupBits - length);
                    for (int j = 0; j < span; j++) Lookup[first + j] = (ushort)((length << 8) | Symbols[k]);
                }
            }
            MaxCode[length] = n > 0 ? code - 1 : -1;
            code <<= 1;
        }
        MaxCode[17] = int.MaxValue;
    }
}
