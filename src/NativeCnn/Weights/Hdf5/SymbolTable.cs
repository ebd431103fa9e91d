using System.Buffers.Binary;
using System.Text;

namespace NativeCnn.Weights.Hdf5;

/// <summary>The data segment of a local heap (<c>HEAP</c>), where an old-style group keeps its link names.</summary>
internal sealed class LocalHeap(byte[] data, long dataOffset)
{
    /// <summary>The data segment.</summary>
    public byte[] Data { get; } = data;

    /// <summary>The file offset of <see cref="Data"/>, for error messages.</summary>
    public long DataOffset { get; } = dataOffset;

    /// <summary>Reads the local heap whose header is at <paramref name="address"/>.</summary>
    public static LocalHeap Read(Hdf5Reader reader, long address, string groupPath)
    {
        int o = reader.OffsetSize, l = reader.LengthSize;
        var header = reader.ReadBytes(address, 8 + 2 * l + o, groupPath, "local heap header");
        if (!header.AsSpan(0, 4).SequenceEqual("HEAP"u8)) throw reader.Corrupt(groupPath, address, "local heap has no HEAP signature.");
        ulong size = Hdf5Reader.ReadUnsigned(header.AsSpan(8), l);
        long dataOffset = reader.ToOffset(Hdf5Reader.ReadUnsigned(header.AsSpan(8 + 2 * l), o), groupPath, address + 8 + 2 * l, "local heap data");
        if (size > (ulong)(reader.Length - dataOffset))
            throw reader.Corrupt(groupPath, address, $"local heap data of {size} bytes runs past the end of the file.");
        return new LocalHeap(reader.ReadBytes(dataOffset, (long)size, groupPath, "local heap data"), dataOffset);
    }
}

/// <summary>
/// The links of an old-style group: a version 1 B-tree of symbol nodes (<c>TREE</c>, <c>SNOD</c>) whose entries name
/// their links by offset into the group's local heap.
/// </summary>
internal static class SymbolTable
{
    /// <summary>Walks the B-tree at <paramref name="bTree"/>; each node may be visited once, so a loop is an error.</summary>
    public static List<(string Name, long Address)> ReadLinks(Hdf5Reader reader, long bTree, LocalHeap heap, string groupPath)
    {
        var links = new List<(string, long)>();
        WalkBTree(reader, bTree, -1, heap, groupPath, links, []);
        return links;
    }

    private static void WalkBTree(Hdf5Reader reader, long node, int expectedLevel, LocalHeap heap, string groupPath,
        List<(string, long)> links, HashSet<long> visited)
    {
        var (level, used, start) = BTree1.ReadNodeHeader(reader, node, nodeType: 0, "group", expectedLevel, visited, groupPath);
        int o = reader.OffsetSize, l = reader.LengthSize;
        // Keys and children alternate: key 0, child 0, key 1, ..., child n-1, key n.
        var entries = reader.ReadBytes(start, (long)used * (l + o) + l, groupPath, "group B-tree entries");
        for (int i = 0; i < used; i++)
        {
            long field = start + (long)i * (l + o) + l;
            long child = reader.ToOffset(Hdf5Reader.ReadUnsigned(entries.AsSpan(i * (l + o) + l), o), groupPath, field, "B-tree child");
            if (level > 0) WalkBTree(reader, child, level - 1, heap, groupPath, links, visited);
            else ReadSymbolNode(reader, child, heap, groupPath, links, visited);
        }
    }

    private static void ReadSymbolNode(Hdf5Reader reader, long node, LocalHeap heap, string groupPath, List<(string, long)> links, HashSet<long> visited)
    {
        if (!visited.Add(node)) throw reader.Corrupt(groupPath, node, "a group symbol node is referenced twice.");
        int o = reader.OffsetSize;
        var header = reader.ReadBytes(node, 8, groupPath, "group symbol node");
        if (!header.AsSpan(0, 4).SequenceEqual("SNOD"u8)) throw reader.Corrupt(groupPath, node, "group symbol node has no SNOD signature.");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(6));
        int entrySize = 2 * o + 24; // name offset, header address, cache type, reserved, 16-byte scratch pad
        var entries = reader.ReadBytes(node + 8, (long)count * entrySize, groupPath, "group symbol node entries");
        var data = heap.Data;
        for (int i = 0; i < count; i++)
        {
            var entry = entries.AsSpan(i * entrySize);
            long field = node + 8 + (long)i * entrySize;
            ulong nameOffset = Hdf5Reader.ReadUnsigned(entry, o);
            if (nameOffset >= (ulong)data.Length) throw reader.Corrupt(groupPath, field, $"link name offset {nameOffset} lies outside the local heap.");
            var rest = data.AsSpan((int)nameOffset);
            int end = rest.IndexOf((byte)0);
            if (end < 0) throw reader.Corrupt(groupPath, heap.DataOffset + (long)nameOffset, "link name is not NUL-terminated inside the local heap.");
            // Many entries may name one long string in the heap; each decoded copy is charged.
            reader.Charge(end, groupPath, heap.DataOffset + (long)nameOffset, "a link name");
            string name = Encoding.UTF8.GetString(rest[..end]);
            string childPath = groupPath == "/" ? "/" + name : groupPath + "/" + name;
            long address = reader.ToOffset(Hdf5Reader.ReadUnsigned(entry[o..], o), childPath, field + o, "object header");
            links.Add((name, address));
        }
    }
}
