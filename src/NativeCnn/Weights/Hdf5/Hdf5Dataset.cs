using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// An HDF5 dataset: its shape and element type, and its values read as float32.
/// </summary>
/// <remarks>
/// Contiguous, compact and chunked storage are supported: chunked datasets indexed by a version 1 B-tree (layout message
/// version 3, what h5py writes by default) or by a single-chunk, implicit, fixed-array, extensible-array or version 2
/// B-tree index (layout version 4, as <c>libver='latest'</c> writes), through the deflate (gzip), shuffle and fletcher32
/// filters. Virtual layouts, external data files, other filters (lzf, szip, ...) and paged extensible-array blocks raise
/// <see cref="NotSupportedException"/> naming the feature and the dataset, when the data is read.
/// The header is parsed on first use of <see cref="Shape"/>, <see cref="ElementType"/> or <see cref="ReadSingles"/>,
/// so that listing a group does not fail because of one unreadable dataset.
/// </remarks>
public sealed class Hdf5Dataset : Hdf5Object
{
    private const int ChunkBytes = 1 << 16;

    private Hdf5Datatype? _type;
    private Hdf5Dataspace? _space;

    internal Hdf5Dataset(Hdf5Reader reader, ObjectHeader header, string path) : base(reader, header, path) { }

    /// <summary>The dimensions, outermost first; empty for a scalar.</summary>
    /// <exception cref="InvalidDataException">The dataspace message is missing or corrupt.</exception>
    public long[] Shape => (long[])Space.Shape.Clone();

    /// <summary>The number of elements (1 for a scalar, 0 for an empty or null dataspace).</summary>
    /// <exception cref="InvalidDataException">The dataspace message is missing or corrupt.</exception>
    public long ElementCount => Space.ElementCount;

    /// <summary>The type of the stored elements.</summary>
    /// <exception cref="InvalidDataException">The datatype message is missing or corrupt.</exception>
    /// <exception cref="NotSupportedException">The datatype is one this reader does not handle (compound, enum, ...).</exception>
    public Hdf5ElementType ElementType => Type.ElementType;

    private Hdf5Dataspace Space => _space ??= Hdf5Dataspace.Parse(Reader, Required(ObjectHeader.Dataspace, "dataspace").Body.Span,
        Required(ObjectHeader.Dataspace, "dataspace").FileOffset, Path);

    private Hdf5Datatype Type => _type ??= Hdf5Datatype.Parse(Reader, Required(ObjectHeader.Datatype, "datatype").Body.Span,
        Required(ObjectHeader.Datatype, "datatype").FileOffset, Path);

    /// <summary>
    /// Reads every element, in C order, as float32: float64, float16 and integers are converted (rounding to nearest).
    /// </summary>
    /// <remarks>
    /// The claimed size is checked against the storage and the file length, and the array is charged to the file's decode
    /// budget (see <see cref="Hdf5File"/>), before it is allocated. A dataset whose storage was never written (HDF5 would
    /// return its fill value) is reported as corrupt, since Keras always writes data.
    /// </remarks>
    /// <exception cref="InvalidDataException">The dataset is corrupt: its storage lies outside the file, is too small for its shape, or was never written; a chunk is listed twice, fails its fletcher32 checksum or inflates to the wrong size; or reading it would exceed the file's decode budget.</exception>
    /// <exception cref="NotSupportedException">The storage uses a filter other than deflate, shuffle and fletcher32, paged extensible-array blocks, external files or a non-numeric type.</exception>
    public float[] ReadSingles()
    {
        var type = Type;
        long count = Space.ElementCount;
        if (!type.IsNumeric)
            throw new NotSupportedException($"{Reader.FileName}: {Path}: the dataset holds {type.ElementType} values; ReadSingles reads numbers only.");
        if (count > Array.MaxLength)
            throw new NotSupportedException($"{Reader.FileName}: {Path}: {count} elements exceed the largest .NET array.");
        FilterPipeline? filters = null;
        foreach (var message in Header.Messages)
        {
            if (message.Type == ObjectHeader.FilterPipeline)
            {
                if (message.IsShared) throw new NotSupportedException($"{Reader.FileName}: {Path}: shared filter pipeline messages are not supported.");
                filters = FilterPipeline.Parse(Reader, message.Body.Span, message.FileOffset, Path);
            }
            if (message.Type == ObjectHeader.ExternalFiles)
                throw new NotSupportedException($"{Reader.FileName}: {Path}: external data files are not supported.");
        }
        if (count == 0) return []; // HDF5 allocates no storage for an empty dataset
        long byteCount = count * type.Size; // cannot overflow: count <= Array.MaxLength and Size <= 8
        var layout = Required(ObjectHeader.Layout, "data layout");
        if (layout.Body.Length >= 2 && layout.Body.Span[0] is 3 or 4 && layout.Body.Span[1] == 2)
            return ReadChunked(layout, type, count, byteCount, filters);
        if (filters is { Count: > 0 })
            throw Reader.Corrupt(Path, layout.FileOffset, "a filter pipeline on a dataset that is not chunked.");
        var (storage, storageOffset) = Storage(layout, byteCount);
        // Charged on every read: hard links can name one dataset many times, and each read returns a new array.
        Reader.Charge(count * sizeof(float), Path, storage is null ? storageOffset : Header.Address, "reading the dataset");
        var values = new float[count];
        if (storage is { } compact)
        {
            type.ToSingles(compact.Span[..(int)byteCount], values);
            return values;
        }
        if (IsNativeSingle(type))
        {
            Reader.ReadInto(storageOffset, MemoryMarshal.AsBytes(values.AsSpan()));
            return values;
        }
        var buffer = new byte[Math.Min(byteCount, ChunkBytes / type.Size * type.Size)];
        for (long done = 0; done < count;)
        {
            int n = (int)Math.Min(count - done, buffer.Length / type.Size);
            var chunk = buffer.AsSpan(0, n * type.Size);
            Reader.ReadInto(storageOffset + done * type.Size, chunk);
            type.ToSingles(chunk, values.AsSpan((int)done, n));
            done += n;
        }
        return values;
    }

    private static bool IsNativeSingle(Hdf5Datatype type) =>
        type.ElementType == Hdf5ElementType.Float32 && !type.BigEndian && BitConverter.IsLittleEndian;

    /// <summary>
    /// Reads a chunked dataset. Its element count was bounded by the caller, and the values (plus a raw copy when they
    /// need converting) are charged to the decode budget before they are allocated, as are the chunks read.
    /// </summary>
    private float[] ReadChunked(HeaderMessage layout, Hdf5Datatype type, long count, long byteCount, FilterPipeline? filters)
    {
        Reader.Charge(count * sizeof(float), Path, layout.FileOffset, "reading the dataset");
        var values = new float[count];
        if (IsNativeSingle(type))
        {
            ChunkedStorage.Read(Reader, Path, layout, Space, type.Size, filters, MemoryMarshal.AsBytes(values.AsSpan()));
            return values;
        }
        if (byteCount > Array.MaxLength) throw new NotSupportedException($"{Reader.FileName}: {Path}: {byteCount} bytes exceed the largest .NET array.");
        Reader.Charge(byteCount, Path, layout.FileOffset, "reading the dataset");
        var raw = new byte[byteCount];
        ChunkedStorage.Read(Reader, Path, layout, Space, type.Size, filters, raw);
        type.ToSingles(raw, values);
        return values;
    }

    /// <summary>
    /// Finds the data: the bytes of a compact layout, or the checked file offset of a contiguous one.
    /// </summary>
    private (ReadOnlyMemory<byte>? Compact, long Offset) Storage(HeaderMessage layout, long byteCount)
    {
        var body = layout.Body.Span;
        long at = layout.FileOffset;
        if (body.Length < 2) throw Reader.Corrupt(Path, at, "data layout message is too short.");
        int version = body[0];
        if (version is 1 or 2)
            throw new NotSupportedException($"{Reader.FileName}: {Path}: data layout message version {version} (files from HDF5 before 1.6) is not supported.");
        if (version is not (3 or 4)) throw Reader.Corrupt(Path, at, $"data layout message version {version} is unknown.");
        switch (body[1])
        {
            case 0:
                if (body.Length < 4) throw Reader.Corrupt(Path, at, "compact layout message is too short.");
                int size = BinaryPrimitives.ReadUInt16LittleEndian(body[2..]);
                if (size < byteCount || body.Length < 4 + size)
                    throw Reader.Corrupt(Path, at, $"compact storage of {size} bytes cannot hold {byteCount} bytes of data.");
                return (layout.Body.Slice(4, size), 0);
            case 1:
                int o = Reader.OffsetSize, l = Reader.LengthSize;
                if (body.Length < 2 + o + l) throw Reader.Corrupt(Path, at, "contiguous layout message is too short.");
                ulong address = Hdf5Reader.ReadUnsigned(body[2..], o);
                ulong stored = Hdf5Reader.ReadUnsigned(body[(2 + o)..], l);
                if (address == Reader.UndefinedAddress)
                    throw Reader.Corrupt(Path, at, "the dataset's storage was never allocated (no data was written).");
                if (stored < (ulong)byteCount)
                    throw Reader.Corrupt(Path, at, $"contiguous storage of {stored} bytes cannot hold {byteCount} bytes of data.");
                long offset = Reader.ToOffset(address, Path, at + 2, "dataset storage");
                Reader.CheckRange(offset, byteCount, Path, "dataset storage");
                return (null, offset);
            case 3:
                throw new NotSupportedException($"{Reader.FileName}: {Path}: virtual dataset storage is not supported.");
            default:
                throw Reader.Corrupt(Path, at + 1, $"data layout class {body[1]} is unknown.");
        }
    }

    private HeaderMessage Required(int type, string what) =>
        Header.Find(type) is { } message
            ? message.IsShared
                ? throw new NotSupportedException($"{Reader.FileName}: {Path}: shared (committed) {what} messages are not supported.")
                : message
            : throw Reader.Corrupt(Path, Header.Address, $"the dataset has no {what} message.");
}
