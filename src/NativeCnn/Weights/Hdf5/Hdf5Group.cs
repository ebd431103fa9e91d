using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// An HDF5 group: named links to child groups and datasets, plus attributes.
/// </summary>
/// <remarks>
/// Old-style groups (a symbol table: v1 B-tree, local heap and symbol nodes, as h5py writes by default) and new-style
/// groups, with compact link messages or dense link storage (a fractal heap indexed by a version 2 B-tree, as HDF5 writes
/// for more than 8 links), are supported. Children are listed in the order the file stores them: byte-wise name order for
/// old-style groups, creation order for groups that index it (<c>track_order=True</c>), and name-hash order for other
/// dense groups. Soft and external links are not followed. Hard links are: each
/// link gives an object with its own <see cref="Hdf5Object.Path"/>, and all of them share the header, attributes and
/// links decoded once for that address. A link back at an ancestor is refused as a cycle.
/// </remarks>
public sealed class Hdf5Group : Hdf5Object
{
    private readonly Hdf5Group? _parent;
    private List<Hdf5Object>? _children;
    private Dictionary<string, Hdf5Object>? _byName;

    internal Hdf5Group(Hdf5Reader reader, ObjectHeader header, string path, Hdf5Group? parent) : base(reader, header, path) =>
        _parent = parent;

    /// <summary>The child groups, in stored order.</summary>
    /// <exception cref="InvalidDataException">The group's index or a child's header is corrupt.</exception>
    /// <exception cref="NotSupportedException">The group uses a storage feature this reader does not handle.</exception>
    public IReadOnlyList<Hdf5Group> Groups => Children.OfType<Hdf5Group>().ToList();

    /// <summary>The child datasets, in stored order.</summary>
    /// <exception cref="InvalidDataException">The group's index or a child's header is corrupt.</exception>
    /// <exception cref="NotSupportedException">The group uses a storage feature this reader does not handle.</exception>
    public IReadOnlyList<Hdf5Dataset> Datasets => Children.OfType<Hdf5Dataset>().ToList();

    private List<Hdf5Object> Children => _children ??= LoadChildren();

    private Dictionary<string, Hdf5Object> ByName => _byName ??= Children.ToDictionary(c => c.Name, StringComparer.Ordinal);

    /// <summary>The group at <paramref name="path"/>, relative to this one ("a/b"); "" is this group.</summary>
    /// <exception cref="KeyNotFoundException">No group exists at that path.</exception>
    public Hdf5Group GetGroup(string path) =>
        TryGetGroup(path, out var group) ? group : throw new KeyNotFoundException($"{Reader.FileName}: no group '{path}' in {Path}.");

    /// <summary>The dataset at <paramref name="path"/>, relative to this group ("a/b:0").</summary>
    /// <exception cref="KeyNotFoundException">No dataset exists at that path.</exception>
    public Hdf5Dataset GetDataset(string path) =>
        TryGetDataset(path, out var dataset) ? dataset : throw new KeyNotFoundException($"{Reader.FileName}: no dataset '{path}' in {Path}.");

    /// <summary>Looks up a group by relative path; false when there is none (or the path names a dataset).</summary>
    public bool TryGetGroup(string path, [NotNullWhen(true)] out Hdf5Group? group)
    {
        group = Resolve(path) as Hdf5Group;
        return group is not null;
    }

    /// <summary>Looks up a dataset by relative path; false when there is none (or the path names a group).</summary>
    public bool TryGetDataset(string path, [NotNullWhen(true)] out Hdf5Dataset? dataset)
    {
        dataset = Resolve(path) as Hdf5Dataset;
        return dataset is not null;
    }

    private Hdf5Object? Resolve(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Hdf5Object current = this;
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (current is not Hdf5Group group || !group.ByName.TryGetValue(part, out var next)) return null;
            current = next;
        }
        return current;
    }

    private List<Hdf5Object> LoadChildren()
    {
        var links = Header.Links ??= ReadLinks();
        var children = new List<Hdf5Object>(links.Count);
        foreach (var (name, address) in links)
        {
            string childPath = ChildPath(name);
            for (var ancestor = this; ancestor is not null; ancestor = ancestor._parent)
                if (ancestor.Header.Address == address)
                    throw Reader.Corrupt(childPath, address, $"the link points back at its ancestor {ancestor.Path} (a cycle).");
            Reader.CountObject(childPath, address);
            // Hard links to one address share its header, and with it the parsed attributes and links.
            var header = Reader.Header(address, childPath);
            if (IsGroup(header)) children.Add(new Hdf5Group(Reader, header, childPath, this));
            else if (header.Find(ObjectHeader.Dataspace) is not null && header.Find(ObjectHeader.Layout) is not null)
                children.Add(new Hdf5Dataset(Reader, header, childPath));
            // Anything else (a committed datatype) is neither a group nor a dataset and is not listed.
        }
        return children;
    }

    private List<(string Name, long Address)> ReadLinks()
    {
        List<(string Name, long Address)> links;
        if (Header.Find(ObjectHeader.SymbolTable) is { } symbolTable) links = ReadSymbolTable(symbolTable);
        else
        {
            links = [];
            ReadLinkMessages(links);
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in links)
            if (name.Length == 0 || name.Contains('/') || !names.Add(name))
                throw Reader.Corrupt(Path, Header.Address, $"the group holds an invalid or repeated link name '{name}'.");
        return links;
    }

    private string ChildPath(string name) => Path == "/" ? "/" + name : Path + "/" + name;

    internal static bool IsGroup(ObjectHeader header) =>
        header.Find(ObjectHeader.SymbolTable) is not null || header.Find(ObjectHeader.LinkInfo) is not null
        || header.Find(ObjectHeader.Link) is not null || header.Find(0x0A) is not null; // 0x0A: group info

    private List<(string, long)> ReadSymbolTable(HeaderMessage message)
    {
        int o = Reader.OffsetSize;
        var body = message.Body.Span;
        if (body.Length < 2 * o) throw Reader.Corrupt(Path, message.FileOffset, "symbol table message is too short.");
        long bTree = Reader.ToOffset(Hdf5Reader.ReadUnsigned(body, o), Path, message.FileOffset, "group B-tree");
        long heapAddress = Reader.ToOffset(Hdf5Reader.ReadUnsigned(body[o..], o), Path, message.FileOffset + o, "local heap");
        // Shared with any other group whose symbol table names the same B-tree and heap; the caller must not change it.
        return Reader.SymbolTableLinks(bTree, heapAddress, Path);
    }

    private void ReadLinkMessages(List<(string, long)> links)
    {
        int o = Reader.OffsetSize;
        foreach (var message in Header.Messages)
        {
            var body = message.Body.Span;
            long at = message.FileOffset;
            if (message.Type == ObjectHeader.LinkInfo)
            {
                bool tracked = body.Length > 1 && (body[1] & 1) != 0;
                bool indexed = body.Length > 1 && (body[1] & 2) != 0;
                int position = 2 + (tracked ? 8 : 0);
                if (body.Length < position + 2 * o + (indexed ? o : 0)) throw Reader.Corrupt(Path, at, "link info message is too short.");
                ulong heap = Hdf5Reader.ReadUnsigned(body[position..], o);
                if (heap == Reader.UndefinedAddress) continue; // compact storage: the links are link messages
                ulong nameIndex = Hdf5Reader.ReadUnsigned(body[(position + o)..], o);
                ulong orderIndex = indexed ? Hdf5Reader.ReadUnsigned(body[(position + 2 * o)..], o) : Reader.UndefinedAddress;
                ReadDenseLinks(links, Reader.ToOffset(heap, Path, at + position, "link fractal heap"), nameIndex, orderIndex, at + position + o);
                continue;
            }
            if (message.Type == ObjectHeader.Link) ParseLink(body, at, links);
        }
    }

    /// <summary>
    /// Dense link storage: link messages in a fractal heap, listed through the creation-order index when there is one
    /// (so a <c>track_order=True</c> group lists in creation order) and the name index otherwise.
    /// </summary>
    private void ReadDenseLinks(List<(string, long)> links, long heapAddress, ulong nameIndex, ulong orderIndex, long field)
    {
        var heap = FractalHeap.Read(Reader, heapAddress, Path);
        bool byOrder = orderIndex != Reader.UndefinedAddress;
        ulong index = byOrder ? orderIndex : nameIndex;
        if (index == Reader.UndefinedAddress) throw Reader.Corrupt(Path, field, "dense link storage has no name index.");
        // Type 6 records: an 8-byte creation order, then the heap ID; type 5: a 4-byte name hash, then the heap ID.
        int idStart = byOrder ? 8 : 4;
        foreach (var (record, offset) in BTree2.ReadRecords(Reader, Reader.ToOffset(index, Path, field, "link index"), byOrder ? 6 : 5, Path))
        {
            if (record.Length < idStart + heap.IdLength) throw Reader.Corrupt(Path, offset, "a link index record is shorter than a heap ID.");
            var (data, at) = heap.Get(record.AsSpan(idStart, heap.IdLength), offset + idStart);
            ParseLink(data, at, links);
        }
    }

    /// <summary>Parses one link message (from the object header or a fractal heap); hard links are added to <paramref name="links"/>.</summary>
    private void ParseLink(ReadOnlySpan<byte> body, long at, List<(string, long)> links)
    {
        int o = Reader.OffsetSize;
        if (body.Length < 2 || body[0] != 1) throw Reader.Corrupt(Path, at, "link message is too short or of an unknown version.");
        int flags = body[1];
        int p = 2;
        int linkType = 0;
        if ((flags & 0x08) != 0) linkType = p < body.Length ? body[p++] : throw Reader.Corrupt(Path, at, "link message is truncated.");
        if ((flags & 0x04) != 0) p += 8; // creation order
        if ((flags & 0x10) != 0) p++; // character set: ASCII and UTF-8 both decode as UTF-8
        int lengthSize = 1 << (flags & 3);
        if (p + lengthSize > body.Length) throw Reader.Corrupt(Path, at, "link message is truncated.");
        ulong nameLength = Hdf5Reader.ReadUnsigned(body[p..], lengthSize);
        p += lengthSize;
        if (nameLength > (ulong)(body.Length - p)) throw Reader.Corrupt(Path, at, "link name runs past the link message.");
        string name = Encoding.UTF8.GetString(body.Slice(p, (int)nameLength));
        p += (int)nameLength;
        if (linkType != 0) return; // soft and external links name no object in this file
        if (p + o > body.Length) throw Reader.Corrupt(Path, at, "link message is truncated.");
        links.Add((name, Reader.ToOffset(Hdf5Reader.ReadUnsigned(body[p..], o), ChildPath(name), at + p, "object header")));
    }
}
