using System.Buffers.Binary;
using System.Text;

namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// Bounds-checked random access to the bytes of an HDF5 file, the per-file caches of decoded objects, and the decode
/// budget. Every read is checked against the file length first, so a corrupt address or size becomes an
/// <see cref="InvalidDataException"/> naming the object and offset, never an out-of-range read or an allocation larger
/// than the file.
/// </summary>
/// <remarks>
/// <para>
/// Hard links make one object reachable from many paths, and many variable-length strings may point at one heap object,
/// so a small file can describe an unbounded amount of work. Object headers, local heaps, symbol tables, global heap
/// collections and variable-length strings are therefore decoded once per file address and shared, and every byte the
/// reader reads into memory or materialises (header blocks, heaps, strings, attribute and dataset values, object paths)
/// is charged to a budget of <see cref="BudgetFileMultiple"/> times the file length plus <see cref="BudgetSlack"/>.
/// A whole well-formed file decodes to about three times its length, so only a file that refers to the same bytes over
/// and over reaches the budget.
/// </para>
/// <para>Not thread-safe: one seekable stream is shared by every read.</para>
/// </remarks>
internal sealed class Hdf5Reader(Stream stream, string fileName, bool leaveOpen) : IDisposable
{
    /// <summary>How many times the file length the reader may decode in all.</summary>
    public const long BudgetFileMultiple = 8;

    /// <summary>Bytes added to the budget so that tiny files can still be read whole.</summary>
    public const long BudgetSlack = 16L << 20;

    /// <summary>The most object paths one file may have reached, far above any Keras file (an EfficientNet-B7 has about 2,700).</summary>
    public const long MaxObjects = 1_000_000;

    // What one object path costs beyond its characters: the facade object and its list entry.
    private const long ObjectCost = 128;

    private readonly Stream _stream = stream;
    private readonly bool _leaveOpen = leaveOpen;
    private readonly Dictionary<long, ObjectHeader> _headers = [];
    private readonly Dictionary<long, LocalHeap> _localHeaps = [];
    private readonly Dictionary<(long BTree, long Heap), List<(string Name, long Address)>> _symbolTables = [];
    private readonly Dictionary<long, GlobalHeapCollection> _globalHeaps = [];
    private readonly Dictionary<(long Collection, int Index, uint Length), string> _heapStrings = [];
    private long _objectsReached;

    /// <summary>The file name (or "HDF5 stream") used in error messages.</summary>
    public string FileName { get; } = fileName;

    /// <summary>The file length in bytes.</summary>
    public long Length { get; } = stream.Length;

    /// <summary>The most bytes this file may decode: <see cref="BudgetFileMultiple"/> × <see cref="Length"/> + <see cref="BudgetSlack"/>.</summary>
    public long Budget { get; } = stream.Length > (long.MaxValue - BudgetSlack) / BudgetFileMultiple
        ? long.MaxValue
        : BudgetFileMultiple * stream.Length + BudgetSlack;

    /// <summary>The bytes decoded so far, charged against <see cref="Budget"/>.</summary>
    public long Decoded { get; private set; }

    /// <summary>Size of a file address in bytes (2, 4 or 8), from the superblock.</summary>
    public int OffsetSize { get; set; } = 8;

    /// <summary>Size of a length field in bytes (2, 4 or 8), from the superblock.</summary>
    public int LengthSize { get; set; } = 8;

    /// <summary>The "undefined address" value for <see cref="OffsetSize"/>: all bits set.</summary>
    public ulong UndefinedAddress => OffsetSize == 8 ? ulong.MaxValue : (1UL << (8 * OffsetSize)) - 1;

    /// <summary>A corruption error naming the file, the object and the byte offset.</summary>
    public InvalidDataException Corrupt(string objectPath, long offset, string problem) =>
        new($"{FileName}: {objectPath} (byte {offset}): {problem}");

    /// <summary>
    /// Charges <paramref name="bytes"/> decoded for <paramref name="what"/> against <see cref="Budget"/>, before they are
    /// allocated; throws when they would exceed it.
    /// </summary>
    public void Charge(long bytes, string objectPath, long offset, string what)
    {
        if (bytes < 0 || bytes > Budget - Decoded)
            throw Corrupt(objectPath, offset,
                $"{what} needs {bytes} more bytes after {Decoded} already decoded, past this file's decode budget of {Budget} bytes "
                + $"({BudgetFileMultiple} x its {Length} bytes + {BudgetSlack}); the file refers to the same data over and over.");
        Decoded += bytes;
    }

    /// <summary>Throws unless <paramref name="count"/> bytes at <paramref name="offset"/> lie inside the file.</summary>
    public void CheckRange(long offset, long count, string objectPath, string what)
    {
        if (offset < 0 || count < 0 || offset > Length || count > Length - offset)
            throw Corrupt(objectPath, offset, $"{what} ({count} bytes) lies outside the file ({Length} bytes).");
    }

    /// <summary>Reads <paramref name="count"/> bytes at <paramref name="offset"/> into a new array, charged to the budget.</summary>
    public byte[] ReadBytes(long offset, long count, string objectPath, string what)
    {
        CheckRange(offset, count, objectPath, what);
        if (count > Array.MaxLength) throw Corrupt(objectPath, offset, $"{what} of {count} bytes is larger than one read can hold.");
        Charge(count, objectPath, offset, what);
        var buffer = new byte[count];
        ReadInto(offset, buffer);
        return buffer;
    }

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; the caller has checked the range and charged it.</summary>
    public void ReadInto(long offset, Span<byte> destination)
    {
        _stream.Position = offset;
        _stream.ReadExactly(destination);
    }

    /// <summary>
    /// Counts an object reached by a path and charges the path: hard links can form a DAG whose paths multiply
    /// exponentially while each object is decoded once, and walking it must end.
    /// </summary>
    public void CountObject(string objectPath, long address)
    {
        if (++_objectsReached > MaxObjects)
            throw Corrupt(objectPath, address, $"more than {MaxObjects} object paths reached; the links probably repeat.");
        Charge(ObjectCost + 2L * objectPath.Length, objectPath, address, "the object path");
    }

    /// <summary>The object header at <paramref name="address"/>, read on first use and shared by every link to it.</summary>
    public ObjectHeader Header(long address, string objectPath)
    {
        if (!_headers.TryGetValue(address, out var header))
        {
            header = ObjectHeader.Read(this, address, objectPath);
            _headers.Add(address, header);
        }
        return header;
    }

    /// <summary>
    /// The links of the symbol table with the given B-tree and local heap, read on first use and shared by every group
    /// whose symbol table message names the same pair.
    /// </summary>
    public List<(string Name, long Address)> SymbolTableLinks(long bTree, long heapAddress, string groupPath)
    {
        if (!_symbolTables.TryGetValue((bTree, heapAddress), out var links))
        {
            if (!_localHeaps.TryGetValue(heapAddress, out var heap))
            {
                heap = LocalHeap.Read(this, heapAddress, groupPath);
                _localHeaps.Add(heapAddress, heap);
            }
            links = SymbolTable.ReadLinks(this, bTree, heap, groupPath);
            _symbolTables.Add((bTree, heapAddress), links);
        }
        return links;
    }

    /// <summary>Converts a raw address to a file offset, checking that it points inside the file.</summary>
    public long ToOffset(ulong address, string objectPath, long fieldOffset, string what)
    {
        if (address >= (ulong)Length)
            throw Corrupt(objectPath, fieldOffset, $"{what} address {address} lies outside the file ({Length} bytes).");
        return (long)address;
    }

    /// <summary>
    /// The variable-length string of <paramref name="length"/> bytes in global heap object <paramref name="index"/> of
    /// the collection at <paramref name="collection"/>. The string is decoded once per heap object and length, but each
    /// request is charged, since every caller holds on to it.
    /// </summary>
    public string HeapString(long collection, int index, uint length, string objectPath)
    {
        Charge(length, objectPath, collection, "a variable-length string");
        if (_heapStrings.TryGetValue((collection, index, length), out var cached)) return cached;
        if (!_globalHeaps.TryGetValue(collection, out var heap))
        {
            heap = GlobalHeapCollection.Read(this, collection, objectPath);
            _globalHeaps.Add(collection, heap);
        }
        var value = heap.Get(this, index, objectPath);
        if (length > (uint)value.Length)
            throw Corrupt(objectPath, collection, $"a variable-length string claims {length} bytes but its heap object {index} has {value.Length}.");
        string text = Encoding.UTF8.GetString(value[..(int)length]);
        _heapStrings.Add((collection, index, length), text);
        return text;
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
