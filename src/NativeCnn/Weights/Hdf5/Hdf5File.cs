namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// A read-only HDF5 file, limited to the subset that h5py writes for Keras weight files: superblock versions 0 to 3,
/// object headers versions 1 and 2, old-style (symbol table) and new-style groups (compact link messages or dense link
/// storage), contiguous, compact and chunked datasets of IEEE floats or integers (deflate, shuffle and fletcher32
/// filters), and attributes, compact or dense, holding numbers or fixed- and variable-length strings.
/// </summary>
/// <remarks>
/// <para>
/// Anything outside that subset (other filters such as lzf or szip, the chunk indexes of datasets with unlimited
/// dimensions, virtual datasets, compound types, ...) raises <see cref="NotSupportedException"/> naming the feature and
/// the object. Checksums of version 2 metadata are not verified; fletcher32 checksums of chunks are.
/// </para>
/// <para>
/// The file may be untrusted. A corrupt or hostile file raises <see cref="InvalidDataException"/> whose message starts
/// with <see cref="Name"/> and names the object path, the byte offset and the problem, within bounded time and memory:
/// <list type="bullet">
/// <item><description>Every read is bounds-checked against the file length before anything is allocated, and sizes are
/// checked against the bytes actually left in the file.</description></item>
/// <item><description>B-trees (version 1 and 2), fractal heap blocks and continuation chains are checked for loops, and a
/// link back at an ancestor group is a cycle error. Each chunk of a chunked dataset must be listed once, lie on the
/// chunk grid and in the file, and decode to exactly its size: deflate stops one byte past it (a zip bomb fails
/// there).</description></item>
/// <item><description>Objects are decoded once per file address and shared: hard links (legal HDF5) to one object header
/// reuse its parsed messages, attributes and links; groups naming the same symbol table, and variable-length strings
/// naming the same global heap object, reuse the decoded links and strings.</description></item>
/// <item><description>Everything the reader reads into memory or hands out (header blocks, heaps, link names, object
/// paths, strings, attribute values and every <see cref="Hdf5Dataset.ReadSingles"/>) is charged to a decode budget,
/// <see cref="DecodeBudget"/>: 8 times the file length plus 16 MiB. Reading a whole well-formed file takes about three
/// times its length; a file that makes the reader decode the same bytes over and over (many links or strings to one
/// large object) fails once the budget is spent, with a message naming the object and the budget.</description></item>
/// </list>
/// </para>
/// <para>Objects are read lazily, on first access. The file is not thread-safe.</para>
/// </remarks>
public sealed class Hdf5File : IDisposable
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly Hdf5Reader _reader;

    /// <summary>Opens the HDF5 file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not HDF5, or its superblock or root group is corrupt.</exception>
    /// <exception cref="NotSupportedException">The file uses a superblock feature this reader does not handle.</exception>
    /// <exception cref="IOException">The file could not be opened or read.</exception>
    public Hdf5File(string path)
        : this(new FileStream(path ?? throw new ArgumentNullException(nameof(path)), FileMode.Open, FileAccess.Read, FileShare.Read, 4096,
            FileOptions.RandomAccess), leaveOpen: false, path)
    {
    }

    /// <summary>Reads an HDF5 file from a seekable, readable stream that starts at the file's first byte.</summary>
    /// <param name="stream">The stream; it is disposed with this object unless <paramref name="leaveOpen"/> is true.</param>
    /// <param name="leaveOpen">Whether to leave <paramref name="stream"/> open when this object is disposed.</param>
    /// <exception cref="ArgumentException">The stream cannot seek or read.</exception>
    /// <exception cref="InvalidDataException">The data is not HDF5, or its superblock or root group is corrupt.</exception>
    /// <exception cref="NotSupportedException">The file uses a superblock feature this reader does not handle.</exception>
    public Hdf5File(Stream stream, bool leaveOpen = false) : this(stream, leaveOpen, "HDF5 stream") { }

    private Hdf5File(Stream stream, bool leaveOpen, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        _reader = new Hdf5Reader(stream, name, leaveOpen);
        try
        {
            long rootAddress = ReadSuperblock();
            _reader.CountObject("/", rootAddress);
            var header = _reader.Header(rootAddress, "/");
            if (!Hdf5Group.IsGroup(header)) throw _reader.Corrupt("/", rootAddress, "the root object is not a group.");
            Root = new Hdf5Group(_reader, header, "/", null);
        }
        catch
        {
            _reader.Dispose();
            throw;
        }
    }

    /// <summary>The superblock version (0 or 1 for h5py defaults, 2 or 3 for <c>libver='latest'</c>).</summary>
    public int SuperblockVersion { get; private set; }

    /// <summary>The file path given to the constructor, or "HDF5 stream"; error messages start with it.</summary>
    public string Name => _reader.FileName;

    /// <summary>
    /// The most bytes this file may decode in all, across every object and value read from it: 8 times the file length
    /// plus 16 MiB (see the remarks).
    /// </summary>
    public long DecodeBudget => _reader.Budget;

    /// <summary>The bytes decoded so far, charged against <see cref="DecodeBudget"/>.</summary>
    public long DecodedBytes => _reader.Decoded;

    /// <summary>The root group, "/".</summary>
    public Hdf5Group Root { get; }

    /// <summary>Closes the file (or the stream, unless it was to be left open).</summary>
    public void Dispose() => _reader.Dispose();

    private long ReadSuperblock()
    {
        var head = _reader.ReadBytes(0, 16, "superblock", "superblock");
        if (!head.AsSpan(0, 8).SequenceEqual(Signature)) throw _reader.Corrupt("superblock", 0, "not an HDF5 file (no signature at byte 0).");
        SuperblockVersion = head[8];
        switch (SuperblockVersion)
        {
            case 0 or 1:
                {
                    SetSizes(head[13], head[14], 13);
                    int o = _reader.OffsetSize;
                    int start = 24 + (SuperblockVersion == 1 ? 4 : 0);
                    // Base, free-space, end-of-file and driver addresses, then the root symbol table entry.
                    var fields = _reader.ReadBytes(start, 4 * o + 2 * o + 24, "superblock", "superblock");
                    CheckBaseAndEnd(fields, start, eofField: 2 * o);
                    return ToRootOffset(Hdf5Reader.ReadUnsigned(fields.AsSpan(4 * o + o), o), start + 5 * o);
                }
            case 2 or 3:
                {
                    SetSizes(head[9], head[10], 9);
                    int o = _reader.OffsetSize;
                    // Base, superblock extension, end-of-file and root object header addresses, then a checksum.
                    var fields = _reader.ReadBytes(12, 4 * o + 4, "superblock", "superblock");
                    CheckBaseAndEnd(fields, 12, eofField: 2 * o);
                    return ToRootOffset(Hdf5Reader.ReadUnsigned(fields.AsSpan(3 * o), o), 12 + 3 * o);
                }
            default:
                throw new NotSupportedException($"{_reader.FileName}: HDF5 superblock version {SuperblockVersion} is not supported (versions 0 to 3 are).");
        }
    }

    private void SetSizes(int offsetSize, int lengthSize, long at)
    {
        if (offsetSize is not (2 or 4 or 8) || lengthSize is not (2 or 4 or 8))
            throw _reader.Corrupt("superblock", at, $"offset size {offsetSize} / length size {lengthSize} are not 2, 4 or 8.");
        _reader.OffsetSize = offsetSize;
        _reader.LengthSize = lengthSize;
    }

    private void CheckBaseAndEnd(byte[] fields, long start, int eofField)
    {
        int o = _reader.OffsetSize;
        if (Hdf5Reader.ReadUnsigned(fields, o) != 0)
            throw new NotSupportedException($"{_reader.FileName}: a non-zero HDF5 base address (user block) is not supported.");
        ulong end = Hdf5Reader.ReadUnsigned(fields.AsSpan(eofField), o);
        if (end != _reader.UndefinedAddress && end > (ulong)_reader.Length)
            throw _reader.Corrupt("superblock", start + eofField, $"the file is truncated: it should be {end} bytes long but is {_reader.Length}.");
    }

    private long ToRootOffset(ulong address, long field) => _reader.ToOffset(address, "/", field, "root group object header");
}
