using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// A dataset's filter pipeline message (0x000B, versions 1 and 2) and the decoding of one chunk through it: deflate
/// (gzip), shuffle and fletcher32. Other filters raise <see cref="NotSupportedException"/> naming the filter id and
/// name, when a chunk actually needs them (an optional filter the writer skipped is flagged in the chunk's filter mask).
/// </summary>
/// <remarks>
/// Every stage knows the exact size its output must have (the chunk's size plus 4 bytes for each fletcher32 checksum
/// still to strip), so deflate never inflates past it: a chunk that would (a zip bomb) fails after one byte too many.
/// </remarks>
internal sealed class FilterPipeline
{
    public const int Deflate = 1;
    public const int Shuffle = 2;
    public const int Fletcher32 = 3;

    // HDF5 allows at most 32 filters in a pipeline (H5Z_MAX_NFILTERS).
    private const int MaxFilters = 32;
    private const int FletcherLength = 4;

    private readonly Filter[] _filters;

    private FilterPipeline(Filter[] filters) => _filters = filters;

    /// <summary>One filter: its id, name (as stored, or the registered name), whether it is optional, and its client data.</summary>
    private readonly record struct Filter(int Id, string Name, bool Optional, uint[] ClientData);

    /// <summary>The number of filters.</summary>
    public int Count => _filters.Length;

    /// <summary>Parses a filter pipeline message.</summary>
    public static FilterPipeline Parse(Hdf5Reader reader, ReadOnlySpan<byte> body, long at, string path)
    {
        if (body.Length < 2) throw reader.Corrupt(path, at, "filter pipeline message is too short.");
        int version = body[0];
        int count = body[1];
        if (version is not (1 or 2)) throw reader.Corrupt(path, at, $"filter pipeline message version {version} is unknown.");
        if (count > MaxFilters) throw reader.Corrupt(path, at + 1, $"the filter pipeline lists {count} filters (HDF5 allows {MaxFilters}).");
        int p = version == 1 ? 8 : 2;
        var filters = new Filter[count];
        for (int i = 0; i < count; i++)
        {
            Need(reader, body, p, 2, at, path);
            int id = BinaryPrimitives.ReadUInt16LittleEndian(body[p..]);
            p += 2;
            int nameLength = 0;
            if (version == 1 || id >= 256)
            {
                Need(reader, body, p, 2, at, path);
                nameLength = BinaryPrimitives.ReadUInt16LittleEndian(body[p..]);
                p += 2;
            }
            Need(reader, body, p, 4, at, path);
            int flags = BinaryPrimitives.ReadUInt16LittleEndian(body[p..]);
            int values = BinaryPrimitives.ReadUInt16LittleEndian(body[(p + 2)..]);
            p += 4;
            string name = KnownName(id);
            if (nameLength > 0)
            {
                Need(reader, body, p, nameLength, at, path);
                var raw = body.Slice(p, nameLength);
                int nul = raw.IndexOf((byte)0);
                string stored = Encoding.ASCII.GetString(nul >= 0 ? raw[..nul] : raw);
                if (stored.Length > 0) name = stored;
                p += version == 1 ? (nameLength + 7) & ~7 : nameLength;
            }
            Need(reader, body, p, 4L * values, at, path);
            var clientData = new uint[values];
            for (int v = 0; v < values; v++) clientData[v] = BinaryPrimitives.ReadUInt32LittleEndian(body[(p + 4 * v)..]);
            p += 4 * values;
            if (version == 1 && values % 2 == 1) p += 4;
            filters[i] = new Filter(id, name, (flags & 1) != 0, clientData);
        }
        return new FilterPipeline(filters);
    }

    private static void Need(Hdf5Reader reader, ReadOnlySpan<byte> body, int position, long count, long at, string path)
    {
        if (count > body.Length - position) throw reader.Corrupt(path, at, "filter pipeline message is truncated.");
    }

    /// <summary>
    /// Decodes one stored chunk into <paramref name="destination"/> (exactly the chunk's size), undoing the filters in
    /// reverse order and skipping those whose bit is set in <paramref name="filterMask"/>.
    /// </summary>
    /// <remarks>
    /// <paramref name="stored"/> is the chunk as stored in the file; <paramref name="scratch"/> and
    /// <paramref name="scratch2"/> are reused buffers, grown as needed; errors name
    /// <paramref name="path"/> and the chunk's file offset <paramref name="chunkOffset"/>.
    /// </remarks>
    public void Decode(Hdf5Reader reader, ReadOnlySpan<byte> stored, uint filterMask, Span<byte> destination, ref byte[] scratch, ref byte[] scratch2,
        int elementSize, string path, long chunkOffset)
    {
        long chunkBytes = destination.Length;
        var current = stored;
        bool swap = false;
        for (int i = _filters.Length - 1; i >= 0; i--)
        {
            var filter = _filters[i];
            if ((filterMask & (1u << i)) != 0) continue;
            ref byte[] target = ref swap ? ref scratch2 : ref scratch;
            switch (filter.Id)
            {
                case Deflate:
                    {
                        // Everything applied before deflate kept the size exact: the chunk plus any fletcher32 checksums.
                        long expected = chunkBytes;
                        for (int j = 0; j < i; j++)
                        {
                            if ((filterMask & (1u << j)) != 0) continue;
                            if (_filters[j].Id == Fletcher32) expected += FletcherLength;
                            else if (_filters[j].Id == Deflate)
                                throw new NotSupportedException($"{reader.FileName}: {path}: a filter pipeline that deflates twice is not supported.");
                        }
                        Grow(ref target, expected);
                        Inflate(reader, current, target.AsSpan(0, (int)expected), path, chunkOffset);
                        current = target.AsSpan(0, (int)expected);
                        swap = !swap;
                        break;
                    }
                case Shuffle:
                    {
                        int size = filter.ClientData.Length > 0 ? (int)Math.Min(filter.ClientData[0], int.MaxValue) : elementSize;
                        Grow(ref target, current.Length);
                        Unshuffle(current, target.AsSpan(0, current.Length), size);
                        current = target.AsSpan(0, current.Length);
                        swap = !swap;
                        break;
                    }
                case Fletcher32:
                    if (current.Length < FletcherLength)
                        throw reader.Corrupt(path, chunkOffset, $"the fletcher32 filter received {current.Length} bytes, fewer than its checksum.");
                    VerifyFletcher32(reader, current, path, chunkOffset);
                    current = current[..^FletcherLength];
                    break;
                default:
                    throw new NotSupportedException(
                        $"{reader.FileName}: {path}: HDF5 filter {filter.Id} ('{filter.Name}'{(filter.Optional ? ", optional" : "")}) is not supported "
                        + "(deflate/gzip, shuffle and fletcher32 are).");
            }
        }
        if (current.Length != chunkBytes)
            throw reader.Corrupt(path, chunkOffset, $"the chunk decodes to {current.Length} bytes, expected {chunkBytes}.");
        current.CopyTo(destination);
    }

    // Scratch grows to the largest stage, which is at most the stored chunk (bounded by the file) or the chunk plus its checksums.
    private static void Grow(ref byte[] buffer, long size)
    {
        if (buffer.Length < size) buffer = new byte[size];
    }

    private static unsafe void Inflate(Hdf5Reader reader, ReadOnlySpan<byte> compressed, Span<byte> output, string path, long chunkOffset)
    {
        fixed (byte* pointer = compressed)
        {
            using var input = new UnmanagedMemoryStream(pointer, compressed.Length);
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            int filled = 0;
            try
            {
                while (filled < output.Length)
                {
                    int n = zlib.Read(output[filled..]);
                    if (n == 0) break;
                    filled += n;
                }
                if (filled < output.Length)
                    throw reader.Corrupt(path, chunkOffset, $"the deflate stream of a chunk ({compressed.Length} bytes) inflates to {filled} bytes, expected {output.Length}.");
                Span<byte> extra = stackalloc byte[1];
                if (zlib.Read(extra) != 0)
                    throw reader.Corrupt(path, chunkOffset,
                        $"the deflate stream of a chunk ({compressed.Length} bytes) inflates past the chunk's {output.Length} bytes (a zip bomb?); stopped there.");
            }
            catch (InvalidDataException e) when (!e.Message.StartsWith(reader.FileName, StringComparison.Ordinal))
            {
                throw reader.Corrupt(path, chunkOffset, $"the deflate stream of a chunk ({compressed.Length} bytes) is corrupt: {e.Message}");
            }
            catch (IOException e)
            {
                // ZLibException: zlib itself gave up on the stream.
                throw reader.Corrupt(path, chunkOffset, $"the deflate stream of a chunk ({compressed.Length} bytes) is corrupt: {e.Message}");
            }
        }
    }

    /// <summary>Undoes the shuffle filter: byte <c>j</c> of element <c>i</c> was stored at <c>j * count + i</c>; leftover bytes are as stored.</summary>
    private static void Unshuffle(ReadOnlySpan<byte> source, Span<byte> destination, int elementSize)
    {
        if (elementSize <= 1 || source.Length < elementSize)
        {
            source.CopyTo(destination);
            return;
        }
        int count = source.Length / elementSize;
        for (int j = 0; j < elementSize; j++)
        {
            var plane = source.Slice(j * count, count);
            for (int i = 0; i < count; i++) destination[i * elementSize + j] = plane[i];
        }
        int done = count * elementSize;
        source[done..].CopyTo(destination[done..]);
    }

    private static void VerifyFletcher32(Hdf5Reader reader, ReadOnlySpan<byte> data, string path, long chunkOffset)
    {
        var payload = data[..^FletcherLength];
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(data[^FletcherLength..]);
        uint sum = Fletcher32Checksum(payload);
        // HDF5 before 1.6.3 wrote the checksum byte-swapped; the library accepts both, and so do we.
        if (stored != sum && stored != BinaryPrimitives.ReverseEndianness(sum))
            throw reader.Corrupt(path, chunkOffset, $"fletcher32 checksum mismatch: the chunk stores {stored:x8} but its data sums to {sum:x8}.");
    }

    /// <summary>HDF5's Fletcher-32 (H5_checksum_fletcher32): big-endian 16-bit words, a trailing odd byte as the high half.</summary>
    internal static uint Fletcher32Checksum(ReadOnlySpan<byte> data)
    {
        uint sum1 = 0, sum2 = 0;
        int words = data.Length / 2;
        int p = 0;
        while (words > 0)
        {
            int block = Math.Min(words, 360);
            words -= block;
            for (int i = 0; i < block; i++, p += 2)
            {
                sum1 += (uint)(data[p] << 8 | data[p + 1]);
                sum2 += sum1;
            }
            sum1 = (sum1 & 0xFFFF) + (sum1 >> 16);
            sum2 = (sum2 & 0xFFFF) + (sum2 >> 16);
        }
        if (data.Length % 2 == 1)
        {
            sum1 += (uint)(data[p] << 8);
            sum2 += sum1;
            sum1 = (sum1 & 0xFFFF) + (sum1 >> 16);
            sum2 = (sum2 & 0xFFFF) + (sum2 >> 16);
        }
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16);
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16);
        return sum2 << 16 | sum1;
    }

    private static string KnownName(int id) => id switch
    {
        Deflate => "deflate",
        Shuffle => "shuffle",
        Fletcher32 => "fletcher32",
        4 => "szip",
        5 => "nbit",
        6 => "scaleoffset",
        307 => "bzip2",
        32000 => "lzf",
        32001 => "blosc",
        32004 => "lz4",
        32008 => "bitshuffle",
        32013 => "zfp",
        32015 => "zstd",
        32017 => "sz",
        _ => "unregistered",
    };
}
