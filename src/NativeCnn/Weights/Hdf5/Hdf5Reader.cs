using System.Buffers.Binary;

namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// Bounds-checked random access to the bytes of an HDF5 file. Every read is checked against the file length first, so a
/// corrupt address or size becomes an <see cref="InvalidDataException"/> naming the object and offset, never an
/// out-of-range read or an allocation larger than the file.
/// </summary>
/// <remarks>Not thread-safe: one seekable stream is shared by every read.</remarks>
internal sealed class Hdf5Reader(Stream stream, string fileName, bool leaveOpen) : IDisposable
{
    private readonly Stream _stream = stream;
    private readonly bool _leaveOpen = leaveOpen;
    private readonly Dictionary<long, GlobalHeapCollection> _globalHeaps = [];
    private long _objectsRead;

    /// <summary>The most object headers one file may have read, far above any Keras file (an EfficientNet-B7 has about 2,700).</summary>
    public const long MaxObjects = 1_000_000;

    /// <summary>The file name (or "HDF5 stream") used in error messages.</summary>
    public string FileName { get; } = fileName;

    /// <summary>The file length in bytes.</summary>
    public long Length { get; } = stream.Length;

    /// <summary>Size of a file address in bytes (2, 4 or 8), from the superblock.</summary>
    public int OffsetSize { get; set; } = 8;

    /// <summary>Size of a length field in bytes (2, 4 or 8), from the superblock.</summary>
    public int LengthSize { get; set; } = 8;

    /// <summary>The "undefined address" value for <see cref="OffsetSize"/>: all bits set.</summary>
    public ulong UndefinedAddress => OffsetSize == 8 ? ulong.MaxValue : (1UL << (8 * OffsetSize)) - 1;

    /// <summary>A corruption error naming the file, the object and the byte offset.</summary>
    public InvalidDataException Corrupt(string objectPath, long offset, string problem) =>
        new($"{FileName}: {objectPath} (byte {offset}): {problem}");

    /// <summary>Throws unless <paramref name="count"/> bytes at <paramref name="offset"/> lie inside the file.</summary>
    public void CheckRange(long offset, long count, string objectPath, string what)
    {
        if (offset < 0 || count < 0 || offset > Length || count > Length - offset)
            throw Corrupt(objectPath, offset, $"{what} ({count} bytes) lies outside the file ({Length} bytes).");
    }

    /// <summary>Reads <paramref name="count"/> bytes at <paramref name="offset"/> into a new array.</summary>
    public byte[] ReadBytes(long offset, long count, string objectPath, string what)
    {
        CheckRange(offset, count, objectPath, what);
        var buffer = new byte[count];
        ReadInto(offset, buffer);
        return buffer;
    }

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; the caller has checked the range.</summary>
    public void ReadInto(long offset, Span<byte> destination)
    {
        _stream.Position = offset;
        _stream.ReadExactly(destination);
    }

    /// <summary>
    /// Counts an object header read and fails past <see cref="MaxObjects"/>: hard links in a corrupt file can form a
    /// DAG whose paths multiply exponentially, and walking it must end.
    /// </summary>
    public void CountObject(string objectPath, long address)
    {
        if (++_objectsRead > MaxObjects)
            throw Corrupt(objectPath, address, $"more than {MaxObjects} objects reached; the links probably repeat.");
    }

    /// <summary>Converts a raw address to a file offset, checking that it points inside the file.</summary>
    public long ToOffset(ulong address, string objectPath, long fieldOffset, string what)
    {
        if (address >= (ulong)Length)
            throw Corrupt(objectPath, fieldOffset, $"{what} address {address} lies outside the file ({Length} bytes).");
        return (long)address;
    }

    /// <summary>Reads the global heap object <paramref name="index"/> of the collection at <paramref name="collection"/>.</summary>
    public ReadOnlySpan<byte> GlobalHeapObject(long collection, int index, string objectPath)
    {
        if (!_globalHeaps.TryGetValue(collection, out var heap))
        {
            heap = GlobalHeapCollection.Read(this, collection, objectPath);
            _globalHeaps.Add(collection, heap);
        }
        return heap.Get(this, index, objectPath);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }

    /// <summary>Reads an unsigned little-endian integer of 1, 2, 4 or 8 bytes.</summary>
    public static ulong ReadUnsigned(ReadOnlySpan<byte> data, int size) => size switch
    {
        1 => data[0],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(data),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(data),
        _ => BinaryPrimitives.ReadUInt64LittleEndian(data),
    };

    /// <summary>
    /// A global heap collection (<c>GCOL</c>): where each object's bytes are. Variable-length strings live here.
    /// </summary>
    private sealed class GlobalHeapCollection(long offset, Dictionary<int, (long Offset, int Size)> objects, byte[] data)
    {
        public static GlobalHeapCollection Read(Hdf5Reader reader, long offset, string objectPath)
        {
            int lengthSize = reader.LengthSize;
            var header = reader.ReadBytes(offset, 8 + lengthSize, objectPath, "global heap collection header");
            if (!header.AsSpan(0, 4).SequenceEqual("GCOL"u8))
                throw reader.Corrupt(objectPath, offset, "a variable-length value points at no global heap collection (no GCOL signature).");
            if (header[4] != 1)
                throw reader.Corrupt(objectPath, offset + 4, $"global heap collection version {header[4]} is unknown.");
            ulong size = ReadUnsigned(header.AsSpan(8), lengthSize);
            if (size < (ulong)header.Length || size > (ulong)(reader.Length - offset))
                throw reader.Corrupt(objectPath, offset + 8, $"global heap collection size {size} does not fit in the file.");
            var data = reader.ReadBytes(offset, (long)size, objectPath, "global heap collection");
            var objects = new Dictionary<int, (long, int)>();
            int position = header.Length;
            int objectHeader = 8 + lengthSize;
            while (position + objectHeader <= data.Length)
            {
                int index = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(position));
                if (index == 0) break; // the free-space object ends the list
                ulong objectSize = ReadUnsigned(data.AsSpan(position + 8), lengthSize);
                int start = position + objectHeader;
                if (objectSize > (ulong)(data.Length - start))
                    throw reader.Corrupt(objectPath, offset + position, $"global heap object {index} ({objectSize} bytes) runs past its collection.");
                objects.TryAdd(index, (start, (int)objectSize));
                position = start + (int)((objectSize + 7) & ~7UL);
            }
            return new GlobalHeapCollection(offset, objects, data);
        }

        public ReadOnlySpan<byte> Get(Hdf5Reader reader, int index, string objectPath) =>
            objects.TryGetValue(index, out var entry)
                ? data.AsSpan((int)entry.Offset, entry.Size)
                : throw reader.Corrupt(objectPath, offset, $"the global heap collection has no object {index}.");
    }
}
