using System.Diagnostics.CodeAnalysis;

namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// What groups and datasets share: a name, a path from the root, and attributes read through typed accessors.
/// </summary>
/// <remarks>
/// Attributes are parsed on first use, once per object header: every hard link to the object shares them. Attribute
/// messages in the object header and dense attribute storage (a fractal heap indexed by a version 2 B-tree, as HDF5 writes
/// for more than 8 attributes or large ones under <c>libver='latest'</c>) are supported; the latter are listed in creation
/// order when the file indexes it. Each value read is a new array and is charged to
/// the file's decode budget (see <see cref="Hdf5File"/>).
/// </remarks>
public abstract class Hdf5Object
{
    private protected Hdf5Object(Hdf5Reader reader, ObjectHeader header, string path)
    {
        Reader = reader;
        Header = header;
        Path = path;
        Name = path == "/" ? "/" : path[(path.LastIndexOf('/') + 1)..];
    }

    /// <summary>The last component of <see cref="Path"/>, or "/" for the root group.</summary>
    public string Name { get; }

    /// <summary>The absolute path, such as <c>/model_weights/block1a_dwconv</c>; "/" for the root group.</summary>
    public string Path { get; }

    private protected Hdf5Reader Reader { get; }

    internal ObjectHeader Header { get; }

    /// <summary>The names of the attributes, in header order.</summary>
    /// <exception cref="NotSupportedException">The attributes use a feature this reader does not handle (shared messages, huge heap objects).</exception>
    /// <exception cref="InvalidDataException">An attribute message is corrupt.</exception>
    public IReadOnlyList<string> AttributeNames => Attributes.ConvertAll(a => a.Name);

    private List<Hdf5Attribute> Attributes => Header.Attributes ??= ParseAttributes();

    /// <summary>Whether an attribute named <paramref name="name"/> exists.</summary>
    public bool HasAttribute(string name) => Find(name) is not null;

    /// <summary>
    /// Reads a string attribute: a scalar or one-element string, fixed-length or variable-length (decoded as UTF-8).
    /// </summary>
    /// <exception cref="KeyNotFoundException">There is no such attribute.</exception>
    /// <exception cref="InvalidDataException">The attribute is not a single string, or is corrupt.</exception>
    public string GetStringAttribute(string name)
    {
        var values = GetStringArrayAttribute(name);
        return values.Length == 1 ? values[0]
            : throw new InvalidDataException($"{Reader.FileName}: {Path}: attribute '{name}' holds {values.Length} strings, not one.");
    }

    /// <summary>
    /// Reads an attribute of strings (any shape, flattened in C order). An attribute with no elements reads as an empty
    /// array whatever its type, because h5py stores an empty Python list as an empty float64 array.
    /// </summary>
    /// <exception cref="KeyNotFoundException">There is no such attribute.</exception>
    /// <exception cref="InvalidDataException">The attribute holds numbers, or is corrupt.</exception>
    public string[] GetStringArrayAttribute(string name) =>
        TryGetStringArrayAttribute(name, out var values) ? values : throw Missing(name);

    /// <summary>Reads an attribute of strings like <see cref="GetStringArrayAttribute"/>; false when it does not exist.</summary>
    /// <exception cref="InvalidDataException">The attribute holds numbers, or is corrupt.</exception>
    public bool TryGetStringArrayAttribute(string name, [NotNullWhen(true)] out string[]? values)
    {
        var attribute = Find(name);
        if (attribute is null)
        {
            values = null;
            return false;
        }
        // The element count is at most the message size over the element size (checked when parsed), so it fits an int.
        int count = (int)attribute.Space.ElementCount;
        if (count == 0)
        {
            values = [];
            return true;
        }
        if (attribute.Type.IsNumeric)
            throw new InvalidDataException($"{Reader.FileName}: {Path}: attribute '{name}' holds {attribute.Type.ElementType} numbers, not strings.");
        string path = $"{Path} attribute '{name}'";
        Reader.Charge((long)count * IntPtr.Size, path, attribute.DataOffset, "the string array");
        values = attribute.Type.ToStrings(Reader, attribute.Data.Span, attribute.DataOffset, count, path);
        return true;
    }

    /// <summary>Reads a numeric attribute (any shape, flattened in C order) as doubles.</summary>
    /// <exception cref="KeyNotFoundException">There is no such attribute.</exception>
    /// <exception cref="InvalidDataException">The attribute holds strings, or is corrupt.</exception>
    public double[] GetDoubleArrayAttribute(string name)
    {
        var attribute = Find(name) ?? throw Missing(name);
        var type = attribute.Type;
        if (!type.IsNumeric && attribute.Space.ElementCount > 0)
            throw new InvalidDataException($"{Reader.FileName}: {Path}: attribute '{name}' holds strings, not numbers.");
        Reader.Charge(attribute.Space.ElementCount * sizeof(double), $"{Path} attribute '{name}'", attribute.DataOffset, "the number array");
        var values = new double[attribute.Space.ElementCount];
        var data = attribute.Data.Span;
        for (int i = 0; i < values.Length; i++) values[i] = type.ToDouble(data.Slice(i * type.Size, type.Size));
        return values;
    }

    /// <inheritdoc/>
    public override string ToString() => Path;

    private Hdf5Attribute? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var attribute in Attributes)
            if (attribute.Name == name) return attribute;
        return null;
    }

    private KeyNotFoundException Missing(string name) => new($"{Reader.FileName}: {Path} has no attribute '{name}'.");

    private List<Hdf5Attribute> ParseAttributes()
    {
        var attributes = new List<Hdf5Attribute>();
        foreach (var message in Header.Messages)
        {
            if (message.Type == ObjectHeader.AttributeInfo)
            {
                ReadDenseAttributes(message, attributes);
            }
            else if (message.Type == ObjectHeader.Attribute)
            {
                if (message.IsShared) throw new NotSupportedException($"{Reader.FileName}: {Path}: shared attribute messages are not supported.");
                attributes.Add(Hdf5Attribute.Parse(Reader, message, Path));
            }
        }
        return attributes;
    }

    /// <summary>
    /// Dense attribute storage: attribute messages in a fractal heap, listed through the creation-order index when
    /// there is one and the name index otherwise. Does nothing when the attribute info message names no heap.
    /// </summary>
    private void ReadDenseAttributes(HeaderMessage message, List<Hdf5Attribute> attributes)
    {
        int o = Reader.OffsetSize;
        var body = message.Body.Span;
        long at = message.FileOffset;
        bool tracked = body.Length > 1 && (body[1] & 1) != 0;
        bool indexed = body.Length > 1 && (body[1] & 2) != 0;
        int position = 2 + (tracked ? 2 : 0);
        if (body.Length < position + 2 * o + (indexed ? o : 0)) throw Reader.Corrupt(Path, at, "attribute info message is too short.");
        ulong heapAddress = Hdf5Reader.ReadUnsigned(body[position..], o);
        if (heapAddress == Reader.UndefinedAddress) return;
        ulong nameIndex = Hdf5Reader.ReadUnsigned(body[(position + o)..], o);
        ulong orderIndex = indexed ? Hdf5Reader.ReadUnsigned(body[(position + 2 * o)..], o) : Reader.UndefinedAddress;
        bool byOrder = orderIndex != Reader.UndefinedAddress;
        ulong index = byOrder ? orderIndex : nameIndex;
        if (index == Reader.UndefinedAddress) throw Reader.Corrupt(Path, at, "dense attribute storage has no name index.");
        var heap = FractalHeap.Read(Reader, Reader.ToOffset(heapAddress, Path, at + position, "attribute fractal heap"), Path);
        // Type 8 and 9 records both start with the 8-byte heap ID and the attribute message's flags.
        var records = BTree2.ReadRecords(Reader, Reader.ToOffset(index, Path, at + position + o, "attribute index"), byOrder ? 9 : 8, Path);
        foreach (var (record, offset) in records)
        {
            if (record.Length < 9 || heap.IdLength > 8) throw Reader.Corrupt(Path, offset, "an attribute index record is too short for its heap ID.");
            byte flags = record[8];
            if ((flags & 0x02) != 0) throw new NotSupportedException($"{Reader.FileName}: {Path}: shared attribute messages are not supported.");
            var (data, dataOffset) = heap.Get(record.AsSpan(0, heap.IdLength), offset);
            attributes.Add(Hdf5Attribute.Parse(Reader, new HeaderMessage(ObjectHeader.Attribute, flags, data, dataOffset), Path));
        }
    }
}
