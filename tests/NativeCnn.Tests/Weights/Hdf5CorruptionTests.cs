using System.Buffers.Binary;
using NativeCnn.Weights.Hdf5;

namespace NativeCnn.Tests.Weights;

/// <summary>
/// Targeted corruptions of a legacy Keras file (superblock v0, v1 object headers, symbol-table groups): loops and lying
/// sizes must end in an <see cref="InvalidDataException"/> that names the place, without hanging or allocating.
/// </summary>
[Collection(KerasH5Collection.Name)]
public sealed class Hdf5CorruptionTests(KerasH5Files files)
{
    private const int RootAddressField = 64; // superblock v0: 24-byte prefix, 4 addresses, then the root entry's name offset

    [ReferenceFact(ExternalReference.H5py)]
    public void ContinuationLoopIsDetected()
    {
        var bytes = Original();
        int root = RootAddress(bytes);
        int continuation = FindMessage(bytes, root, 0x10);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(continuation), root + 16); // back to the first block
        var error = Assert.Throws<InvalidDataException>(() => new Hdf5File(new MemoryStream(bytes)));
        Assert.Contains("loop", error.Message, StringComparison.Ordinal);
        Assert.Contains($"(byte {root + 16})", error.Message, StringComparison.Ordinal);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ContinuationPastTheEndIsDetected()
    {
        var bytes = Original();
        int continuation = FindMessage(bytes, RootAddress(bytes), 0x10);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(continuation + 8), 1L << 62);
        var error = Assert.Throws<InvalidDataException>(() => new Hdf5File(new MemoryStream(bytes)));
        Assert.Contains("runs past the end of the file", error.Message, StringComparison.Ordinal);
    }

    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData(false)]
    [InlineData(true)]
    public void BTreeLoopOrImpossibleLevelIsDetected(bool impossibleLevel)
    {
        var bytes = Original();
        int symbolTable = FindMessage(bytes, RootAddress(bytes), 0x11);
        int node = (int)BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(symbolTable));
        Assert.True(bytes.AsSpan(node, 4).SequenceEqual("TREE"u8));
        if (impossibleLevel)
        {
            bytes[node + 5] = 200;
        }
        else
        {
            bytes[node + 5] = 1; // an internal node whose first child is itself
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(node + 8 + 16 + 8), node);
        }
        using var file = new Hdf5File(new MemoryStream(bytes));
        var error = Assert.Throws<InvalidDataException>(() => file.Root.Groups);
        Assert.Contains(impossibleLevel ? "level 200" : "loop", error.Message, StringComparison.Ordinal);
    }

    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData(1L << 40, typeof(NotSupportedException))]
    [InlineData(1L << 24, typeof(InvalidDataException))]
    public void LyingDimensionNeverAllocatesTheClaimedSize(long dimension, Type expected)
    {
        var bytes = Original();
        long dataspace;
        using (var file = new Hdf5File(new MemoryStream(bytes.ToArray())))
            dataspace = file.Root.GetDataset("stem_conv/stem_conv/kernel:0").Header.Find(0x01)!.Value.FileOffset;
        Assert.Equal(1, bytes[dataspace]); // dataspace version 1: dimensions start 8 bytes in
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan((int)dataspace + 8), dimension);

        using var corrupt = new Hdf5File(new MemoryStream(bytes));
        var dataset = corrupt.Root.GetDataset("stem_conv/stem_conv/kernel:0");
        Assert.Equal(dimension, dataset.Shape[0]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws(expected, () => dataset.ReadSingles());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("/stem_conv/stem_conv/kernel:0", error.Message, StringComparison.Ordinal);
    }

    private byte[] Original() => File.ReadAllBytes(files.PathOf("legacy_weights.h5"));

    private static int RootAddress(byte[] bytes) => (int)BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(RootAddressField));

    /// <summary>The body offset of the first message of <paramref name="type"/> in a v1 object header (following continuations).</summary>
    private static int FindMessage(byte[] bytes, int header, int type)
    {
        var blocks = new Queue<(int Start, int Length)>();
        blocks.Enqueue((header + 16, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(header + 8))));
        while (blocks.TryDequeue(out var block))
        {
            for (int p = block.Start; p + 8 <= block.Start + block.Length;)
            {
                int messageType = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(p));
                int size = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(p + 2));
                if (messageType == type) return p + 8;
                if (messageType == 0x10)
                    blocks.Enqueue(((int)BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(p + 8)), (int)BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(p + 16))));
                p += 8 + size;
            }
        }
        throw new InvalidOperationException($"no message {type:#x} in the header at {header}");
    }
}
