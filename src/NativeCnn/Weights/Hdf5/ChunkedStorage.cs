using System.Buffers.Binary;
using System.Numerics;

namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// Reads a chunked dataset: the chunked form of the data layout message (version 3, whose chunks are indexed by a
/// version 1 B-tree; version 4 with single-chunk, implicit, fixed-array, extensible-array and version 2 B-tree indexes),
/// each chunk decoded through the filter pipeline and copied into place, edge chunks clipped to the dataset's shape.
/// </summary>
/// <remarks>
/// Nothing is sized by an unchecked field. The chunk grid is derived from the dataspace (whose element count the caller
/// has bounded and charged), so the number of chunks is at most the number of elements; a chunk's size is checked
/// against the datatype, HDF5's 4 GiB limit and the decode budget; each index entry is checked to lie on the grid and in
/// the file, and to claim its chunk once; B-tree nodes may be visited once each. Paged extensible-array data blocks (more
/// than 1,024 chunks in one block by default) raise <see cref="NotSupportedException"/>.
/// </remarks>
internal sealed class ChunkedStorage
{
    // The chunk index types of a version 4 layout message.
    private enum ChunkIndex { SingleChunk = 1, Implicit, FixedArray, ExtensibleArray, BTree2 }

    private readonly Hdf5Reader _reader;
    private readonly string _path;
    private readonly long _layoutOffset;
    private readonly long[] _shape;
    private readonly long[] _maxShape;
    private readonly long[] _chunk;
    private readonly int _elementSize;
    private readonly FilterPipeline? _filters;
    private readonly long _chunkBytes;
    private readonly long[] _grid;
    private readonly long _chunkCount;
    private readonly bool[] _claimed;
    private readonly bool _unfilteredEdges;
    private byte[] _stored = [];
    private byte[]? _decoded;
    private byte[] _scratch = [];
    private byte[] _scratch2 = [];

    private ChunkedStorage(Hdf5Reader reader, string path, long layoutOffset, long[] shape, long[] maxShape, long[] chunk, int elementSize,
        FilterPipeline? filters, bool unfilteredEdges)
    {
        _reader = reader;
        _path = path;
        _layoutOffset = layoutOffset;
        _shape = shape;
        _maxShape = maxShape;
        _chunk = chunk;
        _elementSize = elementSize;
        _filters = filters is { Count: > 0 } ? filters : null;
        _unfilteredEdges = unfilteredEdges;
        long elements = 1;
        _grid = new long[shape.Length];
        for (int i = 0; i < chunk.Length; i++)
        {
            if (chunk[i] <= 0) throw reader.Corrupt(path, layoutOffset, $"chunk dimension {i} is {chunk[i]}.");
            elements = elements > uint.MaxValue / chunk[i]
                ? throw reader.Corrupt(path, layoutOffset, $"a chunk of ({string.Join(", ", chunk)}) elements exceeds HDF5's 4 GiB chunk limit.")
                : elements * chunk[i];
            _grid[i] = (shape[i] + chunk[i] - 1) / chunk[i];
        }
        _chunkBytes = checked(elements * elementSize);
        // The margin leaves room for the fletcher32 checksums a decoding stage may still carry.
        if (_chunkBytes > uint.MaxValue || _chunkBytes > Array.MaxLength - 1024)
            throw reader.Corrupt(path, layoutOffset, $"a chunk of {_chunkBytes} bytes exceeds HDF5's 4 GiB chunk limit.");
        // Every chunk of the grid holds at least one element, so there are at most as many chunks as elements.
        long count = 1;
        foreach (long g in _grid) count *= g;
        _chunkCount = count;
        reader.Charge(count, path, layoutOffset, "the chunk map");
        _claimed = new bool[count];
    }

    /// <summary>
    /// Reads the dataset whose chunked layout message is <paramref name="layout"/> into <paramref name="destination"/>
    /// (exactly the dataset's bytes, C order).
    /// </summary>
    public static void Read(Hdf5Reader reader, string path, HeaderMessage layout, Hdf5Dataspace space, int elementSize, FilterPipeline? filters,
        Span<byte> destination)
    {
        var body = layout.Body.Span;
        long at = layout.FileOffset;
        int rank = space.Shape.Length;
        if (rank == 0) throw reader.Corrupt(path, at, "a scalar dataset cannot be chunked.");
        int o = reader.OffsetSize;
        if (body[0] == 3)
        {
            // Version 3: dimensionality (rank + 1), B-tree address, 4-byte chunk dimensions (the last is the element size).
            if (body.Length < 3 + o) throw reader.Corrupt(path, at, "chunked layout message is too short.");
            int dimensionality = body[2];
            if (dimensionality != rank + 1)
                throw reader.Corrupt(path, at + 2, $"the chunked layout has {dimensionality - 1} dimensions but the dataspace has {rank}.");
            if (body.Length < 3 + o + 4 * dimensionality) throw reader.Corrupt(path, at, "chunked layout message is too short.");
            ulong bTree = Hdf5Reader.ReadUnsigned(body[3..], o);
            var chunk = new long[rank];
            for (int i = 0; i < rank; i++) chunk[i] = BinaryPrimitives.ReadUInt32LittleEndian(body[(3 + o + 4 * i)..]);
            CheckElementSize(reader, path, at, BinaryPrimitives.ReadUInt32LittleEndian(body[(3 + o + 4 * rank)..]), elementSize);
            var storage = new ChunkedStorage(reader, path, at, space.Shape, space.MaxShape, chunk, elementSize, filters, false);
            if (bTree == reader.UndefinedAddress) throw storage.NeverWritten();
            storage.WalkBTree(reader.ToOffset(bTree, path, at + 3, "chunk B-tree"), -1, [], destination);
            storage.CheckAllClaimed();
            return;
        }
        // Version 4: flags, dimensionality, bytes per dimension, dimensions, index type, index parameters, index address.
        if (body.Length < 5) throw reader.Corrupt(path, at, "chunked layout message is too short.");
        int flags = body[2];
        int dims = body[3];
        int encoded = body[4];
        if (dims != rank + 1) throw reader.Corrupt(path, at + 3, $"the chunked layout has {dims - 1} dimensions but the dataspace has {rank}.");
        if (encoded is < 1 or > 8) throw reader.Corrupt(path, at + 4, $"chunk dimensions of {encoded} bytes each.");
        int p = 5;
        if (body.Length < p + dims * encoded + 1) throw reader.Corrupt(path, at, "chunked layout message is too short.");
        var chunkDims = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            ulong d = ReadVariable(body[(p + i * encoded)..], encoded);
            chunkDims[i] = d > uint.MaxValue ? throw reader.Corrupt(path, at + p + i * encoded, $"chunk dimension {d} exceeds HDF5's limit.") : (long)d;
        }
        CheckElementSize(reader, path, at, ReadVariable(body[(p + rank * encoded)..], encoded), elementSize);
        p += dims * encoded;
        var indexType = (ChunkIndex)body[p++];
        var chunked = new ChunkedStorage(reader, path, at, space.Shape, space.MaxShape, chunkDims, elementSize, filters, (flags & 1) != 0);
        int l = reader.LengthSize;
        switch (indexType)
        {
            case ChunkIndex.SingleChunk:
                {
                    long storedSize = chunked._chunkBytes;
                    uint mask = 0;
                    if ((flags & 2) != 0)
                    {
                        if (body.Length < p + l + 4) throw reader.Corrupt(path, at, "single-chunk layout message is too short.");
                        ulong filtered = Hdf5Reader.ReadUnsigned(body[p..], l);
                        storedSize = filtered > (ulong)reader.Length ? throw reader.Corrupt(path, at + p, $"a filtered chunk of {filtered} bytes exceeds the file.") : (long)filtered;
                        mask = BinaryPrimitives.ReadUInt32LittleEndian(body[(p + l)..]);
                        p += l + 4;
                    }
                    ulong address = ReadAddress(reader, body, p, at, path);
                    if (chunked._chunkCount != 1)
                        throw reader.Corrupt(path, at, $"a single-chunk index for a dataset of {chunked._chunkCount} chunks.");
                    if (address == reader.UndefinedAddress) throw chunked.NeverWritten();
                    chunked.ReadChunk(0, new long[rank], address, storedSize, mask, at + p, destination);
                    break;
                }
            case ChunkIndex.Implicit:
                {
                    ulong address = ReadAddress(reader, body, p, at, path);
                    if (address == reader.UndefinedAddress) throw chunked.NeverWritten();
                    if (chunked._filters is not null) throw reader.Corrupt(path, at, "an implicit chunk index cannot hold filtered chunks.");
                    long slots = chunked.MaxChunkSlots();
                    long start = reader.ToOffset(address, path, at + p, "implicit chunk storage");
                    if (slots > (reader.Length - start) / chunked._chunkBytes)
                        throw reader.Corrupt(path, at + p, $"{slots} chunks of {chunked._chunkBytes} bytes at {start} run past the end of the file.");
                    foreach (var (index, offsets, slot) in chunked.GridChunks())
                        chunked.ReadChunk(index, offsets, (ulong)(start + slot * chunked._chunkBytes), chunked._chunkBytes, 0, at + p, destination);
                    break;
                }
            // The index's creation parameters come before its address; the index's own header repeats them.
            case ChunkIndex.FixedArray: // page bits
                chunked.ReadFixedArray(chunked.IndexHeader(body, p, parameters: 1, "fixed-array", "fixed array header", at), destination);
                break;
            case ChunkIndex.ExtensibleArray: // max bits, index elements, min pointers, min elements, page bits
                chunked.ReadExtensibleArray(chunked.IndexHeader(body, p, parameters: 5, "extensible-array", "extensible array header", at), destination);
                break;
            case ChunkIndex.BTree2: // node size, split and merge percentages
                chunked.ReadBTree2(chunked.IndexHeader(body, p, parameters: 6, "version 2 B-tree", "chunk B-tree", at), destination);
                break;
            default:
                throw reader.Corrupt(path, at + p - 1, $"chunk index type {(int)indexType} is unknown.");
        }
        chunked.CheckAllClaimed();
    }

    /// <summary>
    /// The file offset of a chunk index's header, whose address follows <paramref name="parameters"/> bytes of creation
    /// parameters at <paramref name="p"/> in the layout message <paramref name="body"/> (at file offset <paramref name="at"/>).
    /// </summary>
    private long IndexHeader(ReadOnlySpan<byte> body, int p, int parameters, string layoutName, string headerName, long at)
    {
        if (body.Length < p + parameters) throw _reader.Corrupt(_path, at, $"{layoutName} layout message is too short.");
        p += parameters;
        ulong address = ReadAddress(_reader, body, p, at, _path);
        if (address == _reader.UndefinedAddress) throw NeverWritten();
        return _reader.ToOffset(address, _path, at + p, headerName);
    }

    private static void CheckElementSize(Hdf5Reader reader, string path, long at, ulong stored, int elementSize)
    {
        if (stored != (ulong)elementSize)
            throw reader.Corrupt(path, at, $"the chunked layout's element size is {stored} bytes but the datatype's is {elementSize}.");
    }

    private static ulong ReadVariable(ReadOnlySpan<byte> data, int size)
    {
        ulong value = 0;
        for (int i = size - 1; i >= 0; i--) value = value << 8 | data[i];
        return value;
    }

    private static ulong ReadAddress(Hdf5Reader reader, ReadOnlySpan<byte> body, int p, long at, string path) =>
        body.Length < p + reader.OffsetSize
            ? throw reader.Corrupt(path, at, "chunked layout message is too short for its index address.")
            : Hdf5Reader.ReadUnsigned(body[p..], reader.OffsetSize);

    private InvalidDataException NeverWritten() =>
        _reader.Corrupt(_path, _layoutOffset, "the dataset's chunks were never allocated (no data was written).");

    private void CheckAllClaimed()
    {
        int missing = Array.IndexOf(_claimed, false);
        if (missing >= 0)
            throw _reader.Corrupt(_path, _layoutOffset,
                $"chunk {missing} of {_chunkCount} (at element ({string.Join(", ", GridOffsets(missing))})) was never written; Keras writes every value.");
    }

    private long[] GridOffsets(long index)
    {
        var offsets = new long[_grid.Length];
        for (int i = _grid.Length - 1; i >= 0; i--)
        {
            offsets[i] = index % _grid[i] * _chunk[i];
            index /= _grid[i];
        }
        return offsets;
    }

    /// <summary>The number of chunk slots an implicit or fixed-array index holds: the grid over the maximum shape.</summary>
    private long MaxChunkSlots()
    {
        long slots = 1;
        for (int i = 0; i < _chunk.Length; i++)
        {
            if (_maxShape[i] == Hdf5Dataspace.Unlimited)
                throw _reader.Corrupt(_path, _layoutOffset, $"dimension {i} is unlimited, which this chunk index cannot describe.");
            long g = (_maxShape[i] + _chunk[i] - 1) / _chunk[i];
            slots = g != 0 && slots > long.MaxValue / g ? throw _reader.Corrupt(_path, _layoutOffset, "the chunk slot count overflows.") : slots * g;
        }
        return slots;
    }

    /// <summary>Each chunk of the dataset: its grid index, element offsets and slot in the max-shape grid.</summary>
    private IEnumerable<(long Index, long[] Offsets, long Slot)> GridChunks()
    {
        for (long index = 0; index < _chunkCount; index++)
        {
            var offsets = GridOffsets(index);
            long slot = 0;
            // The outermost extent never enters the slot, so it may be unlimited (the extensible-array index).
            for (int i = 0; i < offsets.Length; i++) slot = (i == 0 ? 0 : slot * ((_maxShape[i] + _chunk[i] - 1) / _chunk[i])) + offsets[i] / _chunk[i];
            yield return (index, offsets, slot);
        }
    }

    private void WalkBTree(long node, int expectedLevel, HashSet<long> visited, Span<byte> destination)
    {
        var (level, used, start) = BTree1.ReadNodeHeader(_reader, node, nodeType: 1, "chunk", expectedLevel, visited, _path);
        int o = _reader.OffsetSize;
        int rank = _shape.Length;
        int keySize = 8 + 8 * (rank + 1);
        // Keys and children alternate: key 0, child 0, key 1, ..., child n-1, key n.
        var entries = _reader.ReadBytes(start, (long)used * (keySize + o) + keySize, _path, "chunk B-tree entries");
        for (int i = 0; i < used; i++)
        {
            var key = entries.AsSpan(i * (keySize + o));
            long field = start + (long)i * (keySize + o) + keySize;
            ulong child = Hdf5Reader.ReadUnsigned(entries.AsSpan(i * (keySize + o) + keySize), o);
            if (level > 0)
            {
                WalkBTree(_reader.ToOffset(child, _path, field, "chunk B-tree child"), level - 1, visited, destination);
                continue;
            }
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(key);
            uint mask = BinaryPrimitives.ReadUInt32LittleEndian(key[4..]);
            var offsets = new long[rank];
            long index = 0;
            bool outside = false;
            for (int d = 0; d < rank; d++)
            {
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(key[(8 + 8 * d)..]);
                if (offset % (ulong)_chunk[d] != 0)
                    throw _reader.Corrupt(_path, field - keySize, $"chunk offset {offset} in dimension {d} is not a multiple of the chunk size {_chunk[d]}.");
                // A chunk past the current shape is legal after a dataset shrinks; it holds no visible data.
                if (offset >= (ulong)_shape[d]) outside = true;
                else
                {
                    offsets[d] = (long)offset;
                    index = index * _grid[d] + (long)offset / _chunk[d];
                }
            }
            if (!outside) ReadChunk(index, offsets, child, size, mask, field, destination);
        }
    }

    private void ReadFixedArray(long headerAddress, Span<byte> destination)
    {
        int o = _reader.OffsetSize, l = _reader.LengthSize;
        var header = _reader.ReadBytes(headerAddress, 8 + l + o + 4, _path, "fixed array header");
        if (!header.AsSpan(0, 4).SequenceEqual("FAHD"u8)) throw _reader.Corrupt(_path, headerAddress, "fixed array header has no FAHD signature.");
        if (header[4] != 0) throw _reader.Corrupt(_path, headerAddress + 4, $"fixed array version {header[4]} is unknown.");
        int client = header[5];
        int entrySize = header[6];
        int pageBits = header[7];
        ulong entries = Hdf5Reader.ReadUnsigned(header.AsSpan(8), l);
        bool filtered = client == 1;
        if (client > 1) throw _reader.Corrupt(_path, headerAddress + 5, $"fixed array client {client} is not a chunk index.");
        if (filtered != (_filters is not null))
            throw _reader.Corrupt(_path, headerAddress + 5, filtered ? "the fixed array holds filtered chunks but the dataset has no filters." : "the dataset has filters but its fixed array holds unfiltered chunks.");
        int sizeBytes = entrySize - o - 4;
        if (filtered ? sizeBytes is < 1 or > 8 : entrySize != o)
            throw _reader.Corrupt(_path, headerAddress + 6, $"fixed array entries of {entrySize} bytes.");
        long slots = MaxChunkSlots();
        if (slots > _reader.Length / entrySize)
            throw _reader.Corrupt(_path, headerAddress + 8, $"the dataset's {slots} chunk slots of {entrySize} bytes cannot fit in the file.");
        if (entries != (ulong)slots)
            throw _reader.Corrupt(_path, headerAddress + 8, $"the fixed array holds {entries} entries but the dataset has {slots} chunk slots.");
        if (pageBits is 0 or > 32) throw _reader.Corrupt(_path, headerAddress + 7, $"fixed array page bits {pageBits}.");
        ulong blockAddress = Hdf5Reader.ReadUnsigned(header.AsSpan(8 + l), o);
        if (blockAddress == _reader.UndefinedAddress) throw NeverWritten();
        long block = _reader.ToOffset(blockAddress, _path, headerAddress + 8 + l, "fixed array data block");
        long pageSize = 1L << pageBits;
        bool paged = slots > pageSize;
        long pages = (slots + pageSize - 1) / pageSize;
        int bitmapBytes = paged ? (int)((pages + 7) / 8) : 0;
        int prefix = 6 + o + bitmapBytes;
        // The entries were checked to equal the slot count, itself at most the element count times the grid's slack,
        // so this is bounded; the read is bounded by the file length.
        long entryBytes = checked(slots * entrySize);
        var prefixBytes = _reader.ReadBytes(block, prefix, _path, "fixed array data block");
        if (!prefixBytes.AsSpan(0, 4).SequenceEqual("FADB"u8)) throw _reader.Corrupt(_path, block, "fixed array data block has no FADB signature.");
        if (Hdf5Reader.ReadUnsigned(prefixBytes.AsSpan(6), o) != (ulong)headerAddress)
            throw _reader.Corrupt(_path, block + 6, "the fixed array data block belongs to another header.");
        byte[] elements;
        if (!paged) elements = _reader.ReadBytes(block + prefix, entryBytes, _path, "fixed array entries");
        else
        {
            // Each page is its entries followed by a 4-byte checksum, after the data block's own checksum.
            _reader.CheckRange(block + prefix + 4, checked(entryBytes + 4 * pages), _path, "fixed array pages");
            _reader.Charge(entryBytes, _path, block, "fixed array entries");
            elements = new byte[entryBytes];
            long position = block + prefix + 4;
            for (long page = 0; page < pages; page++)
            {
                long count = Math.Min(pageSize, slots - page * pageSize);
                bool initialised = (prefixBytes[6 + o + page / 8] & (0x80 >> (int)(page % 8))) != 0;
                var target = elements.AsSpan((int)(page * pageSize * entrySize), (int)(count * entrySize));
                if (initialised) _reader.ReadInto(position, target);
                else target.Fill(0xFF); // an uninitialised page: every chunk in it is unallocated
                position += count * entrySize + 4;
            }
        }
        foreach (var (index, offsets, slot) in GridChunks())
        {
            var (address, size, mask) = ReadArrayElement(elements.AsSpan((int)(slot * entrySize), entrySize), filtered, sizeBytes, block);
            if (address == _reader.UndefinedAddress) continue; // reported by CheckAllClaimed
            ReadChunk(index, offsets, address, size, mask, block, destination);
        }
    }

    /// <summary>
    /// An extensible-array chunk index (<c>EAHD</c>, <c>EAIB</c>, <c>EASB</c>, <c>EADB</c>), as HDF5 writes for a dataset
    /// with one unlimited dimension: chunk slots in row-major order with that dimension outermost, the first few in the index block, then in
    /// data blocks that double in size, addressed from the index block or through super blocks (H5EA__lookup_elmt).
    /// Paged data blocks (more than 2^page-bits chunks in one block) raise <see cref="NotSupportedException"/>.
    /// </summary>
    private void ReadExtensibleArray(long headerAddress, Span<byte> destination)
    {
        int o = _reader.OffsetSize, l = _reader.LengthSize;
        var h = _reader.ReadBytes(headerAddress, 12 + 6 * l + o, _path, "extensible array header");
        if (!h.AsSpan(0, 4).SequenceEqual("EAHD"u8)) throw _reader.Corrupt(_path, headerAddress, "extensible array header has no EAHD signature.");
        if (h[4] != 0) throw _reader.Corrupt(_path, headerAddress + 4, $"extensible array version {h[4]} is unknown.");
        int client = h[5], entrySize = h[6], maxBits = h[7], indexElements = h[8], minElements = h[9], minPointers = h[10], pageBits = h[11];
        bool filtered = client == 1;
        if (client > 1) throw _reader.Corrupt(_path, headerAddress + 5, $"extensible array client {client} is not a chunk index.");
        if (filtered != (_filters is not null))
            throw _reader.Corrupt(_path, headerAddress + 5, filtered ? "the extensible array holds filtered chunks but the dataset has no filters." : "the dataset has filters but its extensible array holds unfiltered chunks.");
        int sizeBytes = entrySize - o - 4;
        if (filtered ? sizeBytes is < 1 or > 8 : entrySize != o) throw _reader.Corrupt(_path, headerAddress + 6, $"extensible array entries of {entrySize} bytes.");
        if (maxBits is 0 or > 64 || minElements == 0 || !BitOperations.IsPow2(minElements) || minPointers == 0 || !BitOperations.IsPow2(minPointers)
            || BitOperations.Log2((uint)minElements) > maxBits || pageBits > 32)
            throw _reader.Corrupt(_path, headerAddress + 7, $"extensible array parameters {maxBits}/{indexElements}/{minElements}/{minPointers}/{pageBits} are inconsistent.");
        // HDF5 "swizzles" the unlimited dimension to the front (H5VM_swizzle_coords): slots run over it outermost.
        int unlimited = Array.IndexOf(_maxShape, Hdf5Dataspace.Unlimited);
        if (unlimited < 0 || Array.LastIndexOf(_maxShape, Hdf5Dataspace.Unlimited) != unlimited)
            throw _reader.Corrupt(_path, headerAddress, "an extensible-array chunk index needs exactly one unlimited dimension.");
        var order = new int[_shape.Length];
        order[0] = unlimited;
        for (int i = 0, k = 1; i < _shape.Length; i++)
            if (i != unlimited) order[k++] = i;
        ulong indexAddress = Hdf5Reader.ReadUnsigned(h.AsSpan(12 + 6 * l), o);
        if (indexAddress == _reader.UndefinedAddress) throw NeverWritten();
        long indexBlock = _reader.ToOffset(indexAddress, _path, headerAddress + 12 + 6 * l, "extensible array index block");
        // H5EA__hdr_init: super block s holds 2^(s/2) data blocks of 2^((s+1)/2) * minElements slots each.
        int superBlocks = 1 + maxBits - BitOperations.Log2((uint)minElements);
        int directSuperBlocks = Math.Min(2 * BitOperations.Log2((uint)minPointers), superBlocks);
        int directDataBlocks = 2 * (minPointers - 1);
        int offsetBytes = (maxBits + 7) / 8;
        long indexBytes = 6 + o + (long)indexElements * entrySize + (long)(directDataBlocks + superBlocks - directSuperBlocks) * o;
        var index = _reader.ReadBytes(indexBlock, indexBytes, _path, "extensible array index block");
        if (!index.AsSpan(0, 4).SequenceEqual("EAIB"u8)) throw _reader.Corrupt(_path, indexBlock, "extensible array index block has no EAIB signature.");
        if (Hdf5Reader.ReadUnsigned(index.AsSpan(6), o) != (ulong)headerAddress)
            throw _reader.Corrupt(_path, indexBlock + 6, "the extensible array index block belongs to another header.");
        int dataBlockPointers = 6 + o + indexElements * entrySize;
        int superBlockPointers = dataBlockPointers + directDataBlocks * o;
        long pageElements = 1L << pageBits;
        var blocks = new Dictionary<long, byte[]>();

        // The entries of the data block at `address` holding `count` slots, read once.
        byte[]? DataBlock(ulong address, long count, long field)
        {
            if (address == _reader.UndefinedAddress) return null;
            long at = _reader.ToOffset(address, _path, field, "extensible array data block");
            if (blocks.TryGetValue(at, out var cached)) return cached;
            if (count > pageElements)
                throw new NotSupportedException($"{_reader.FileName}: {_path}: paged extensible-array data blocks (more than {pageElements} chunks in one block) are not supported.");
            int prefix = 6 + o + offsetBytes;
            var block = _reader.ReadBytes(at, prefix + count * entrySize, _path, "extensible array data block");
            if (!block.AsSpan(0, 4).SequenceEqual("EADB"u8)) throw _reader.Corrupt(_path, at, "extensible array data block has no EADB signature.");
            if (Hdf5Reader.ReadUnsigned(block.AsSpan(6), o) != (ulong)headerAddress)
                throw _reader.Corrupt(_path, at + 6, "the extensible array data block belongs to another header.");
            var entries = block.AsSpan(prefix).ToArray();
            blocks.Add(at, entries);
            return entries;
        }

        var superBlockCache = new Dictionary<int, byte[]?>();
        long sliceStart = 0;
        var starts = new long[superBlocks];
        var firstDataBlock = new long[superBlocks];
        long dataBlocksSoFar = 0;
        for (int s = 0; s < superBlocks; s++)
        {
            firstDataBlock[s] = dataBlocksSoFar;
            long perBlock = (1L << ((s + 1) / 2)) * minElements;
            long count = 1L << (s / 2);
            // Slots this far out cannot be reached by a grid that fits in memory; stop before the arithmetic could overflow.
            if (s / 2 + (s + 1) / 2 + BitOperations.Log2((uint)minElements) > 58)
            {
                Array.Resize(ref starts, s);
                break;
            }
            starts[s] = sliceStart;
            sliceStart += count * perBlock;
            dataBlocksSoFar += count;
        }

        foreach (var (chunkIndex, offsets, _) in GridChunks())
        {
            long slot = offsets[order[0]] / _chunk[order[0]];
            for (int k = 1; k < order.Length; k++)
            {
                int d = order[k];
                slot = slot * ((_maxShape[d] + _chunk[d] - 1) / _chunk[d]) + offsets[d] / _chunk[d];
            }
            ReadOnlySpan<byte> entry;
            if (slot < indexElements) entry = index.AsSpan(6 + o + (int)slot * entrySize, entrySize);
            else
            {
                long rest = slot - indexElements;
                int s = BitOperations.Log2((ulong)(rest / minElements + 1));
                if (s >= starts.Length) throw _reader.Corrupt(_path, headerAddress, $"chunk slot {slot} lies beyond the extensible array's {maxBits}-bit range.");
                long within = rest - starts[s];
                long perBlock = (1L << ((s + 1) / 2)) * minElements;
                byte[]? block;
                if (s < directSuperBlocks)
                {
                    long d = firstDataBlock[s] + within / perBlock;
                    if (d >= directDataBlocks) throw _reader.Corrupt(_path, indexBlock, $"chunk slot {slot} maps to data block {d} of {directDataBlocks}.");
                    long field = indexBlock + dataBlockPointers + d * o;
                    block = DataBlock(Hdf5Reader.ReadUnsigned(index.AsSpan(dataBlockPointers + (int)d * o), o), perBlock, field);
                }
                else
                {
                    int super = s - directSuperBlocks;
                    if (!superBlockCache.TryGetValue(super, out var pointers))
                    {
                        ulong superAddress = Hdf5Reader.ReadUnsigned(index.AsSpan(superBlockPointers + super * o), o);
                        pointers = null;
                        if (superAddress != _reader.UndefinedAddress)
                        {
                            long at = _reader.ToOffset(superAddress, _path, indexBlock + superBlockPointers + super * o, "extensible array super block");
                            if (perBlock > pageElements)
                                throw new NotSupportedException($"{_reader.FileName}: {_path}: paged extensible-array data blocks (more than {pageElements} chunks in one block) are not supported.");
                            int prefix = 6 + o + offsetBytes;
                            long count = 1L << (s / 2);
                            var sb = _reader.ReadBytes(at, prefix + count * o, _path, "extensible array super block");
                            if (!sb.AsSpan(0, 4).SequenceEqual("EASB"u8)) throw _reader.Corrupt(_path, at, "extensible array super block has no EASB signature.");
                            pointers = sb.AsSpan(prefix).ToArray();
                        }
                        superBlockCache.Add(super, pointers);
                    }
                    long d = within / perBlock;
                    block = pointers is null || (d + 1) * o > pointers.Length ? null
                        : DataBlock(Hdf5Reader.ReadUnsigned(pointers.AsSpan((int)d * o), o), perBlock, indexBlock);
                }
                if (block is null) continue; // an unallocated block: its chunks were never written (CheckAllClaimed)
                entry = block.AsSpan((int)(within % perBlock * entrySize), entrySize);
            }
            var (address, size, mask) = ReadArrayElement(entry, filtered, sizeBytes, headerAddress);
            if (address == _reader.UndefinedAddress) continue;
            ReadChunk(chunkIndex, offsets, address, size, mask, headerAddress, destination);
        }
    }

    /// <summary>
    /// A fixed- or extensible-array element: the chunk's address (undefined for a chunk never written) and, in a filtered
    /// dataset, the chunk's stored size (checked against the file) and filter mask; unfiltered chunks are <c>_chunkBytes</c> long.
    /// </summary>
    private (ulong Address, long Size, uint Mask) ReadArrayElement(ReadOnlySpan<byte> entry, bool filtered, int sizeBytes, long where)
    {
        int o = _reader.OffsetSize;
        ulong address = Hdf5Reader.ReadUnsigned(entry, o);
        if (!filtered || address == _reader.UndefinedAddress) return (address, _chunkBytes, 0);
        ulong stored = ReadVariable(entry[o..], sizeBytes);
        long size = stored > (ulong)_reader.Length ? throw _reader.Corrupt(_path, where, $"a filtered chunk of {stored} bytes exceeds the file.") : (long)stored;
        return (address, size, BinaryPrimitives.ReadUInt32LittleEndian(entry[(o + sizeBytes)..]));
    }

    /// <summary>
    /// A version 2 B-tree chunk index: records of type 10 (address, scaled offsets) or 11 (address, stored size, filter
    /// mask, scaled offsets), one per written chunk.
    /// </summary>
    private void ReadBTree2(long address, Span<byte> destination)
    {
        int o = _reader.OffsetSize;
        int rank = _shape.Length;
        bool filtered = _filters is not null;
        foreach (var (record, offset) in BTree2.ReadRecords(_reader, address, filtered ? 11 : 10, _path))
        {
            int sizeBytes = record.Length - o - 8 * rank - (filtered ? 4 : 0);
            if (filtered ? sizeBytes is < 1 or > 8 : sizeBytes != 0)
                throw _reader.Corrupt(_path, offset, $"a chunk B-tree record of {record.Length} bytes for a rank-{rank} dataset.");
            ulong chunkAddress = Hdf5Reader.ReadUnsigned(record, o);
            long size = _chunkBytes;
            uint mask = 0;
            int p = o;
            if (filtered)
            {
                ulong stored = ReadVariable(record.AsSpan(p), sizeBytes);
                size = stored > (ulong)_reader.Length ? throw _reader.Corrupt(_path, offset, $"a filtered chunk of {stored} bytes exceeds the file.") : (long)stored;
                mask = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(p + sizeBytes));
                p += sizeBytes + 4;
            }
            var offsets = new long[rank];
            long index = 0;
            bool outside = false;
            for (int d = 0; d < rank; d++)
            {
                ulong scaled = BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(p + 8 * d));
                if (scaled >= (ulong)_grid[d]) outside = true; // past the current shape: legal after a shrink, and invisible
                else
                {
                    offsets[d] = (long)scaled * _chunk[d];
                    index = index * _grid[d] + (long)scaled;
                }
            }
            if (!outside) ReadChunk(index, offsets, chunkAddress, size, mask, offset, destination);
        }
    }

    /// <summary>Reads, decodes and places one chunk; <paramref name="field"/> is where its index entry is, for errors.</summary>
    private void ReadChunk(long index, long[] offsets, ulong address, long storedSize, uint filterMask, long field, Span<byte> destination)
    {
        if (_claimed[index]) throw _reader.Corrupt(_path, field, $"the chunk at element ({string.Join(", ", offsets)}) is listed twice in the chunk index.");
        if (address == _reader.UndefinedAddress) return; // reported by CheckAllClaimed
        _claimed[index] = true;
        long at = _reader.ToOffset(address, _path, field, "chunk");
        bool edge = false;
        for (int i = 0; i < offsets.Length; i++) edge |= offsets[i] + _chunk[i] > _shape[i];
        bool filter = _filters is not null && !(edge && _unfilteredEdges);
        if (!filter && storedSize < _chunkBytes)
            throw _reader.Corrupt(_path, field, $"an unfiltered chunk of {storedSize} bytes cannot hold {_chunkBytes} bytes.");
        long readSize = filter ? storedSize : _chunkBytes;
        _reader.CheckRange(at, readSize, _path, $"the chunk at element ({string.Join(", ", offsets)})");
        _reader.Charge(readSize, _path, at, "a chunk");
        if (_stored.Length < readSize) _stored = new byte[Math.Max(readSize, Math.Min(_chunkBytes, _reader.Length))];
        var stored = _stored.AsSpan(0, (int)readSize);
        _reader.ReadInto(at, stored);
        ReadOnlySpan<byte> chunk = stored;
        if (filter)
        {
            if (_decoded is null)
            {
                // The decoded chunk and two stage buffers of about its size (a few checksum bytes more, or a stored chunk's size).
                _reader.Charge(checked(3 * (_chunkBytes + 64)), _path, _layoutOffset, "the chunk decode buffers");
                _decoded = new byte[_chunkBytes];
            }
            _filters!.Decode(_reader, stored, filterMask, _decoded, ref _scratch, ref _scratch2, _elementSize, _path, at);
            chunk = _decoded;
        }
        Place(chunk, offsets, destination);
    }

    /// <summary>Copies the part of a chunk that lies inside the dataset to its place in the C-order destination.</summary>
    private void Place(ReadOnlySpan<byte> chunk, long[] offsets, Span<byte> destination)
    {
        int rank = _shape.Length;
        var extent = new long[rank];
        for (int i = 0; i < rank; i++) extent[i] = Math.Min(_chunk[i], _shape[i] - offsets[i]);
        int rowBytes = (int)(extent[rank - 1] * _elementSize);
        var position = new long[rank]; // odometer over the chunk's rows (the last index stays 0)
        while (true)
        {
            long source = 0, target = 0;
            for (int i = 0; i < rank; i++)
            {
                source = source * _chunk[i] + position[i];
                target = target * _shape[i] + offsets[i] + position[i];
            }
            chunk.Slice((int)(source * _elementSize), rowBytes).CopyTo(destination[(int)(target * _elementSize)..]);
            int d = rank - 2;
            while (d >= 0 && ++position[d] == extent[d]) position[d--] = 0;
            if (d < 0) return;
        }
    }
}
