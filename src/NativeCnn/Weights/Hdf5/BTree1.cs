using System.Buffers.Binary;

namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// The node header of a version 1 B-tree (<c>TREE</c>), which indexes both a group's symbol nodes (node type 0, see
/// <see cref="SymbolTable"/>) and a dataset's chunks (node type 1, see <see cref="ChunkedStorage"/>).
/// </summary>
internal static class BTree1
{
    /// <summary>The deepest level accepted: a level is one byte, and real trees are a few levels deep.</summary>
    public const int MaxLevel = 32;

    /// <summary>
    /// Reads and checks the header of the node at <paramref name="node"/>: visited once, the signature, the node type
    /// and the level (<paramref name="expectedLevel"/>, or any up to <see cref="MaxLevel"/> when negative).
    /// <paramref name="kind"/> names what the tree indexes in messages: <c>group</c> or <c>chunk</c>.
    /// </summary>
    /// <returns>The node's level, its number of used entries, and where its entries start.</returns>
    /// <exception cref="InvalidDataException">The node was visited before, or its header is not a valid one of this kind.</exception>
    public static (int Level, int Used, long EntriesStart) ReadNodeHeader(Hdf5Reader reader, long node, int nodeType, string kind,
                                                                         int expectedLevel, HashSet<long> visited, string path)
    {
        if (!visited.Add(node)) throw reader.Corrupt(path, node, $"{kind} B-tree nodes form a loop.");
        var header = reader.ReadBytes(node, 8 + 2 * reader.OffsetSize, path, $"{kind} B-tree node");
        if (!header.AsSpan(0, 4).SequenceEqual("TREE"u8)) throw reader.Corrupt(path, node, $"{kind} B-tree node has no TREE signature.");
        if (header[4] != nodeType) throw reader.Corrupt(path, node + 4, $"B-tree node type {header[4]} is not a {kind} node.");
        int level = header[5];
        if (level > MaxLevel || (expectedLevel >= 0 && level != expectedLevel))
            throw reader.Corrupt(path, node + 5, $"{kind} B-tree node has level {level}, expected {(expectedLevel >= 0 ? expectedLevel : "at most " + MaxLevel)}.");
        int used = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(6));
        return (level, used, node + header.Length);
    }
}
