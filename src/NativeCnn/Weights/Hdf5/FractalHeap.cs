using System.Buffers.Binary;
using System.Numerics;

namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// A fractal heap (<c>FRHP</c>), where dense link and attribute storage keep their messages, and the objects in it
/// named by heap IDs: managed objects in direct blocks (<c>FHDB</c>) under a tree of indirect blocks (<c>FHIB</c>), and
/// tiny objects held in the ID itself, and huge objects stored on their own (found through the heap's huge-object
/// B-tree). Heaps with I/O filters raise <see cref="NotSupportedException"/>.
/// </summary>
/// <remarks>
/// An object's heap offset is mapped to a file address by walking the doubling table from the root block; every block
/// and object is checked to lie in the file, indirect blocks are bounded in depth (the offset halves at each level, and
/// the heap's offset width caps it at 64), and nothing is allocated beyond the object itself.
/// </remarks>
internal sealed class FractalHeap
{
    private readonly Hdf5Reader _reader;
    private readonly string _path;
    private readonly long _address;
    private readonly int _idLength;
    private readonly bool _checksummedDirect;
    private readonly int _tableWidth;
    private readonly long _startBlockSize;
    private readonly long _maxDirectBlockSize;
    private readonly int _maxHeapBits;
    private readonly long _rootBlock;
    private readonly int _rootRows;
    private readonly int _offsetBytes;
    private readonly int _lengthBytes;
    private readonly ulong _hugeTree;
    private Dictionary<ulong, (ulong Address, ulong Length)>? _hugeObjects;

    /// <summary>The length of this heap's IDs in bytes.</summary>
    public int IdLength => _idLength;

    private FractalHeap(Hdf5Reader reader, string path, long address, int idLength, bool checksummedDirect, int tableWidth, long startBlockSize,
        long maxDirectBlockSize, int maxHeapBits, long rootBlock, int rootRows, long maxManagedObject, ulong hugeTree)
    {
        _hugeTree = hugeTree;
        _reader = reader;
        _path = path;
        _address = address;
        _idLength = idLength;
        _checksummedDirect = checksummedDirect;
        _tableWidth = tableWidth;
        _startBlockSize = startBlockSize;
        _maxDirectBlockSize = maxDirectBlockSize;
        _maxHeapBits = maxHeapBits;
        _rootBlock = rootBlock;
        _rootRows = rootRows;
        _offsetBytes = (maxHeapBits + 7) / 8;
        // HDF5: the length field is as wide as the smaller of the max direct block size and the max managed object size need.
        int directBits = BitOperations.Log2((ulong)maxDirectBlockSize);
        int fromDirect = (directBits + 7) / 8;
        int fromManaged = BitOperations.Log2((ulong)Math.Max(maxManagedObject, 1)) / 8 + 1;
        _lengthBytes = Math.Min(fromDirect, fromManaged);
    }

    /// <summary>Reads the heap header at <paramref name="address"/>.</summary>
    public static FractalHeap Read(Hdf5Reader reader, long address, string path)
    {
        int o = reader.OffsetSize, l = reader.LengthSize;
        int size = 4 + 1 + 2 + 2 + 1 + 4 + l + o + l + o + 8 * l + 2 + l + l + 2 + 2 + o + 2;
        var h = reader.ReadBytes(address, size, path, "fractal heap header");
        if (!h.AsSpan(0, 4).SequenceEqual("FRHP"u8)) throw reader.Corrupt(path, address, "fractal heap has no FRHP signature.");
        if (h[4] != 0) throw reader.Corrupt(path, address + 4, $"fractal heap version {h[4]} is unknown.");
        int idLength = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(5));
        int filterLength = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(7));
        int flags = h[9];
        uint maxManaged = BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(10));
        if (filterLength != 0)
            throw new NotSupportedException($"{reader.FileName}: {path}: fractal heaps with I/O filters (compressed dense storage) are not supported.");
        int p = 14 + l + o + l + o + 8 * l;
        int width = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(p));
        ulong start = Hdf5Reader.ReadUnsigned(h.AsSpan(p + 2), l);
        ulong maxDirect = Hdf5Reader.ReadUnsigned(h.AsSpan(p + 2 + l), l);
        int maxHeapBits = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(p + 2 + 2 * l));
        ulong root = Hdf5Reader.ReadUnsigned(h.AsSpan(p + 6 + 2 * l), o);
        int rootRows = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(p + 6 + 2 * l + o));
        if (idLength is < 2 or > 64) throw reader.Corrupt(path, address + 5, $"fractal heap IDs of {idLength} bytes.");
        if (width is 0 or > 4096 || !BitOperations.IsPow2(width)) throw reader.Corrupt(path, address + p, $"fractal heap table width {width}.");
        if (start == 0 || !BitOperations.IsPow2(start) || maxDirect < start || !BitOperations.IsPow2(maxDirect) || maxDirect > 1UL << 48)
            throw reader.Corrupt(path, address + p + 2, $"fractal heap block sizes {start} (starting) and {maxDirect} (largest direct).");
        if (maxHeapBits is < 1 or > 64) throw reader.Corrupt(path, address + p + 2 + 2 * l, $"fractal heap of {maxHeapBits} offset bits.");
        if (rootRows > 64) throw reader.Corrupt(path, address + p + 6 + 2 * l + o, $"fractal heap root indirect block of {rootRows} rows.");
        long rootBlock = root == reader.UndefinedAddress ? -1 : reader.ToOffset(root, path, address + p + 6 + 2 * l, "fractal heap root block");
        ulong hugeTree = Hdf5Reader.ReadUnsigned(h.AsSpan(14 + l), o);
        return new FractalHeap(reader, path, address, idLength, (flags & 2) != 0, width, (long)start, (long)maxDirect, maxHeapBits, rootBlock, rootRows,
            maxManaged, hugeTree);
    }

    /// <summary>The bytes of the object named by <paramref name="id"/> (an ID from a dense-storage B-tree record) and their file offset.</summary>
    public (byte[] Data, long Offset) Get(ReadOnlySpan<byte> id, long idOffset)
    {
        if (id.Length < _idLength) throw _reader.Corrupt(_path, idOffset, $"a fractal heap ID of {id.Length} bytes (the heap's are {_idLength}).");
        int kind = (id[0] >> 4) & 3;
        if ((id[0] >> 6) != 0) throw _reader.Corrupt(_path, idOffset, $"fractal heap ID version {id[0] >> 6} is unknown.");
        switch (kind)
        {
            case 0:
                {
                    if (1 + _offsetBytes + _lengthBytes > _idLength) throw _reader.Corrupt(_path, idOffset, "a managed heap ID does not fit the heap's ID length.");
                    ulong offset = ReadVariable(id[1..], _offsetBytes);
                    ulong length = ReadVariable(id[(1 + _offsetBytes)..], _lengthBytes);
                    if (length == 0 || length > (ulong)_maxDirectBlockSize)
                        throw _reader.Corrupt(_path, idOffset, $"a managed heap object of {length} bytes (direct blocks hold at most {_maxDirectBlockSize}).");
                    if (_maxHeapBits < 64 && offset >> _maxHeapBits != 0)
                        throw _reader.Corrupt(_path, idOffset, $"heap offset {offset} is beyond the heap's {_maxHeapBits}-bit address space.");
                    long at = Locate((long)offset, (long)length, idOffset);
                    return (_reader.ReadBytes(at, (long)length, _path, "a fractal heap object"), at);
                }
            case 2:
                {
                    // Tiny: the length (minus one) is in the low nibble, the data follows in the ID itself.
                    int length = (id[0] & 0x0F) + 1;
                    if (1 + length > _idLength) throw _reader.Corrupt(_path, idOffset, $"a tiny heap object of {length} bytes does not fit its {_idLength}-byte ID.");
                    _reader.Charge(length, _path, idOffset, "a tiny fractal heap object");
                    return (id.Slice(1, length).ToArray(), idOffset + 1);
                }
            case 1:
                {
                    var (address, length) = Huge(id, idOffset);
                    long at = _reader.ToOffset(address, _path, idOffset, "huge fractal heap object");
                    if (length == 0 || length > (ulong)(_reader.Length - at))
                        throw _reader.Corrupt(_path, idOffset, $"a huge heap object of {length} bytes at {at} runs past the end of the file.");
                    return (_reader.ReadBytes(at, (long)length, _path, "a huge fractal heap object"), at);
                }
            default:
                throw _reader.Corrupt(_path, idOffset, "fractal heap ID type 3 is unknown.");
        }
    }

    /// <summary>
    /// Where a huge object is: in the ID itself when it is long enough for an address and a length, otherwise in the
    /// heap's huge-object B-tree (type 1: address, length, ID), read once.
    /// </summary>
    private (ulong Address, ulong Length) Huge(ReadOnlySpan<byte> id, long idOffset)
    {
        int o = _reader.OffsetSize, l = _reader.LengthSize;
        if (_idLength - 1 >= o + l) return (Hdf5Reader.ReadUnsigned(id[1..], o), Hdf5Reader.ReadUnsigned(id[(1 + o)..], l));
        ulong key = ReadVariable(id[1..], Math.Min(_idLength - 1, 8));
        if (_hugeObjects is null)
        {
            if (_hugeTree == _reader.UndefinedAddress) throw _reader.Corrupt(_path, idOffset, "a huge heap object ID, but the heap has no huge-object B-tree.");
            _hugeObjects = [];
            foreach (var (record, offset) in BTree2.ReadRecords(_reader, _reader.ToOffset(_hugeTree, _path, _address, "huge-object B-tree"), 1, _path))
            {
                if (record.Length <= o + l) throw _reader.Corrupt(_path, offset, "a huge-object B-tree record is too short.");
                ulong recordId = ReadVariable(record.AsSpan(o + l), Math.Min(record.Length - o - l, 8));
                if (!_hugeObjects.TryAdd(recordId, (Hdf5Reader.ReadUnsigned(record, o), Hdf5Reader.ReadUnsigned(record.AsSpan(o), l))))
                    throw _reader.Corrupt(_path, offset, $"huge heap object {recordId} is listed twice.");
            }
        }
        return _hugeObjects.TryGetValue(key, out var found) ? found : throw _reader.Corrupt(_path, idOffset, $"no huge heap object {key}.");
    }

    private static ulong ReadVariable(ReadOnlySpan<byte> data, int size)
    {
        ulong value = 0;
        for (int i = size - 1; i >= 0; i--) value = value << 8 | data[i];
        return value;
    }

    private long RowBlockSize(int row, long block)
    {
        if (row <= 1) return _startBlockSize;
        // The doubling table's blocks cannot outgrow the heap's address space (nor a long).
        if (BitOperations.Log2((ulong)_startBlockSize) + row - 1 > Math.Min(_maxHeapBits, 62))
            throw _reader.Corrupt(_path, block, $"fractal heap row {row} would hold blocks beyond the heap's {_maxHeapBits}-bit address space.");
        return _startBlockSize << (row - 1);
    }

    /// <summary>The file address of the managed object at heap <paramref name="offset"/>.</summary>
    private long Locate(long offset, long length, long idOffset)
    {
        if (_rootBlock < 0) throw _reader.Corrupt(_path, idOffset, "the fractal heap has no blocks but an ID names an object in it.");
        if (_rootRows == 0) return InDirectBlock(_rootBlock, 0, _startBlockSize, offset, length, idOffset);
        long block = _rootBlock;
        long blockOffset = 0;
        int rows = _rootRows;
        int maxDirectRows = BitOperations.Log2((ulong)_maxDirectBlockSize) - BitOperations.Log2((ulong)_startBlockSize) + 2;
        var visited = new HashSet<long>();
        while (true)
        {
            if (!visited.Add(block)) throw _reader.Corrupt(_path, block, "fractal heap indirect blocks form a loop.");
            int o = _reader.OffsetSize;
            int directRows = Math.Min(rows, maxDirectRows);
            int prefix = 5 + o + _offsetBytes;
            var header = _reader.ReadBytes(block, prefix, _path, "fractal heap indirect block");
            if (!header.AsSpan(0, 4).SequenceEqual("FHIB"u8)) throw _reader.Corrupt(_path, block, "fractal heap indirect block has no FHIB signature.");
            if (ReadVariable(header.AsSpan(5 + o), _offsetBytes) != (ulong)blockOffset)
                throw _reader.Corrupt(_path, block, $"the fractal heap indirect block does not start at heap offset {blockOffset}.");
            // Find the row and column that cover the offset.
            long position = blockOffset;
            bool descended = false;
            for (int row = 0; row < rows && !descended; row++)
            {
                long size = RowBlockSize(row, block);
                long rowSpan = size > long.MaxValue / _tableWidth ? throw _reader.Corrupt(_path, block, "fractal heap rows overflow.") : size * _tableWidth;
                if (offset - position >= rowSpan)
                {
                    position += rowSpan;
                    continue;
                }
                long column = (offset - position) / size;
                long entry = (long)row * _tableWidth + column;
                var pointer = _reader.ReadBytes(block + prefix + entry * o, o, _path, "fractal heap block pointer");
                ulong child = Hdf5Reader.ReadUnsigned(pointer, o);
                if (child == _reader.UndefinedAddress)
                    throw _reader.Corrupt(_path, block, $"heap offset {offset} falls in a fractal heap block that was never allocated.");
                long childAddress = _reader.ToOffset(child, _path, block + prefix + entry * o, "fractal heap block");
                long childOffset = position + column * size;
                if (row < directRows) return InDirectBlock(childAddress, childOffset, size, offset, length, idOffset);
                // An indirect child spans `size` bytes: rows = log2(size) - log2(start * width) + 1.
                block = childAddress;
                blockOffset = childOffset;
                rows = BitOperations.Log2((ulong)size) - BitOperations.Log2((ulong)(_startBlockSize * _tableWidth)) + 1;
                if (rows <= 0 || rows > 64) throw _reader.Corrupt(_path, block, $"a fractal heap indirect block of {rows} rows.");
                descended = true;
            }
            if (!descended) throw _reader.Corrupt(_path, block, $"heap offset {offset} lies beyond the fractal heap's blocks.");
        }
    }

    private long InDirectBlock(long block, long blockOffset, long size, long offset, long length, long idOffset)
    {
        int o = _reader.OffsetSize;
        int prefix = 5 + o + _offsetBytes + (_checksummedDirect ? 4 : 0);
        var header = _reader.ReadBytes(block, 5 + o + _offsetBytes, _path, "fractal heap direct block");
        if (!header.AsSpan(0, 4).SequenceEqual("FHDB"u8)) throw _reader.Corrupt(_path, block, "fractal heap direct block has no FHDB signature.");
        if (Hdf5Reader.ReadUnsigned(header.AsSpan(5), o) != (ulong)_address)
            throw _reader.Corrupt(_path, block + 5, "the fractal heap direct block belongs to another heap.");
        long within = offset - blockOffset;
        if (within < prefix || length > size - within)
            throw _reader.Corrupt(_path, idOffset, $"a heap object of {length} bytes at offset {within} does not fit its {size}-byte direct block.");
        _reader.CheckRange(block, size, _path, "fractal heap direct block");
        return block + within;
    }
}
