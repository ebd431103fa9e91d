using System.Buffers.Binary;
using System.Numerics;

namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// A version 2 B-tree (<c>BTHD</c>, <c>BTIN</c>, <c>BTLF</c>), walked in order to list its records: dense link storage
/// indexes its links by name hash (type 5) and creation order (type 6), dense attribute storage its attributes by name
/// hash (type 8) and creation order (type 9).
/// </summary>
/// <remarks>
/// Node sizes come from the header and are checked against the file; each node may be visited once (a loop is an error),
/// depth decreases by one per level, and the total record count is checked against the header's, so a corrupt tree ends
/// with an <see cref="InvalidDataException"/>.
/// </remarks>
internal static class BTree2
{
    // H5B2_METADATA_PREFIX_SIZE: signature, version, type and checksum.
    private const int PrefixSize = 10;
    private const int MaxDepth = 64;

    /// <summary>Every record of the tree at <paramref name="address"/> (of <paramref name="expectedType"/>), in key order, with its file offset.</summary>
    public static List<(byte[] Record, long Offset)> ReadRecords(Hdf5Reader reader, long address, int expectedType, string path)
    {
        int o = reader.OffsetSize, l = reader.LengthSize;
        var h = reader.ReadBytes(address, 18 + o + l, path, "version 2 B-tree header");
        if (!h.AsSpan(0, 4).SequenceEqual("BTHD"u8)) throw reader.Corrupt(path, address, "version 2 B-tree header has no BTHD signature.");
        if (h[4] != 0) throw reader.Corrupt(path, address + 4, $"version 2 B-tree version {h[4]} is unknown.");
        if (h[5] != expectedType) throw reader.Corrupt(path, address + 5, $"version 2 B-tree of type {h[5]}, expected {expectedType}.");
        uint nodeSize = BinaryPrimitives.ReadUInt32LittleEndian(h.AsSpan(6));
        int recordSize = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(10));
        int depth = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(12));
        ulong root = Hdf5Reader.ReadUnsigned(h.AsSpan(16), o);
        int rootRecords = BinaryPrimitives.ReadUInt16LittleEndian(h.AsSpan(16 + o));
        ulong total = Hdf5Reader.ReadUnsigned(h.AsSpan(18 + o), l);
        if (recordSize == 0 || nodeSize <= PrefixSize + (uint)recordSize || nodeSize > reader.Length)
            throw reader.Corrupt(path, address + 6, $"version 2 B-tree nodes of {nodeSize} bytes holding {recordSize}-byte records.");
        if (depth > MaxDepth) throw reader.Corrupt(path, address + 12, $"version 2 B-tree of depth {depth}.");
        if (total > (ulong)(reader.Length / recordSize)) throw reader.Corrupt(path, address + 18 + o, $"version 2 B-tree claims {total} records, more than the file can hold.");
        var records = new List<(byte[], long)>();
        if (root == reader.UndefinedAddress || total == 0) return records;
        var tree = new Tree(reader, path, (int)nodeSize, recordSize, depth, expectedType);
        tree.Walk(reader.ToOffset(root, path, address + 16, "version 2 B-tree root"), depth, rootRecords, records, []);
        if ((ulong)records.Count != total)
            throw reader.Corrupt(path, address + 18 + o, $"version 2 B-tree holds {records.Count} records but its header claims {total}.");
        return records;
    }

    private sealed class Tree
    {
        private readonly Hdf5Reader _reader;
        private readonly string _path;
        private readonly int _nodeSize;
        private readonly int _recordSize;
        private readonly int _type;
        // Per depth: the bytes of a child's record count and of its subtree's total record count (H5B2__hdr_init).
        private readonly int[] _countBytes;
        private readonly int[] _totalBytes;

        public Tree(Hdf5Reader reader, string path, int nodeSize, int recordSize, int depth, int type)
        {
            _reader = reader;
            _path = path;
            _nodeSize = nodeSize;
            _recordSize = recordSize;
            _type = type;
            _countBytes = new int[depth + 1];
            _totalBytes = new int[depth + 1];
            int o = reader.OffsetSize;
            long leafMax = (nodeSize - PrefixSize) / recordSize;
            int maxCountBytes = EncodedSize((ulong)leafMax);
            var cumulative = new ulong[depth + 1];
            cumulative[0] = (ulong)leafMax;
            for (int d = 1; d <= depth; d++)
            {
                int pointer = o + maxCountBytes + _totalBytes[d - 1];
                long max = (nodeSize - (PrefixSize + pointer)) / (recordSize + pointer);
                if (max <= 0) throw reader.Corrupt(path, 0, $"version 2 B-tree nodes of {nodeSize} bytes cannot hold an internal node of depth {d}.");
                // The cumulative maximum only sizes a field; saturate rather than overflow on an absurd depth.
                ulong grown = cumulative[d - 1] > ulong.MaxValue / (ulong)(max + 2) ? ulong.MaxValue / 2 : ((ulong)max + 1) * cumulative[d - 1] + (ulong)max;
                cumulative[d] = grown;
                _countBytes[d] = maxCountBytes;
                _totalBytes[d] = EncodedSize(grown);
            }
        }

        // H5VM_limit_enc_size: the bytes needed to encode a count up to `limit`.
        private static int EncodedSize(ulong limit) => BitOperations.Log2(Math.Max(limit, 1)) / 8 + 1;

        public void Walk(long node, int depth, int count, List<(byte[], long)> records, HashSet<long> visited)
        {
            if (!visited.Add(node)) throw _reader.Corrupt(_path, node, "version 2 B-tree nodes form a loop.");
            var block = _reader.ReadBytes(node, _nodeSize, _path, "version 2 B-tree node");
            var signature = depth == 0 ? "BTLF"u8 : "BTIN"u8;
            if (!block.AsSpan(0, 4).SequenceEqual(signature))
                throw _reader.Corrupt(_path, node, $"version 2 B-tree node at depth {depth} has no {(depth == 0 ? "BTLF" : "BTIN")} signature.");
            if (block[5] != _type) throw _reader.Corrupt(_path, node + 5, $"version 2 B-tree node of type {block[5]}, expected {_type}.");
            int o = _reader.OffsetSize;
            int pointer = depth == 0 ? 0 : o + _countBytes[depth] + _totalBytes[depth - 1];
            long needed = 6 + (long)count * _recordSize + (depth == 0 ? 0 : (long)(count + 1) * pointer) + 4;
            if (needed > _nodeSize)
                throw _reader.Corrupt(_path, node, $"version 2 B-tree node claims {count} records, more than its {_nodeSize} bytes hold.");
            int children = 6 + count * _recordSize;
            for (int i = 0; i <= count; i++)
            {
                if (depth > 0)
                {
                    var entry = block.AsSpan(children + i * pointer);
                    ulong child = Hdf5Reader.ReadUnsigned(entry, o);
                    ulong childCount = ReadVariable(entry[o..], _countBytes[depth]);
                    if (childCount > ushort.MaxValue) throw _reader.Corrupt(_path, node + children + i * pointer + o, $"a child node of {childCount} records.");
                    Walk(_reader.ToOffset(child, _path, node + children + i * pointer, "version 2 B-tree child"), depth - 1, (int)childCount, records, visited);
                }
                if (i < count) records.Add((block.AsSpan(6 + i * _recordSize, _recordSize).ToArray(), node + 6 + i * _recordSize));
            }
        }

        private static ulong ReadVariable(ReadOnlySpan<byte> data, int size)
        {
            ulong value = 0;
            for (int i = size - 1; i >= 0; i--) value = value << 8 | data[i];
            return value;
        }
    }
}
