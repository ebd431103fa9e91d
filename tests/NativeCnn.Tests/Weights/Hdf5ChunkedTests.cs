using System.Diagnostics;
using NativeCnn.Weights.Hdf5;
using NativeCnn.Weights.Keras;

namespace NativeCnn.Tests.Weights;

/// <summary>
/// Chunked datasets and their filters (issue 14): every chunk index and filter h5py writes for fixed-size data, edge
/// chunks, unsupported filters and indexes refused by name, and hostile chunk indexes and deflate streams.
/// </summary>
[Collection(Hdf5FeatureCollection.Name)]
public sealed class Hdf5ChunkedTests(Hdf5FeatureFiles files)
{
    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("chunked.h5", 0)]
    [InlineData("chunked_latest.h5", 3)]
    public void ReadsEveryChunkedDatasetAsH5pyWroteIt(string name, int superblockVersion)
    {
        using var file = new Hdf5File(files.PathOf(name));
        Assert.Equal(superblockVersion, file.SuperblockVersion);
        int datasets = 0;
        foreach (var entry in files.Expected.RootElement.GetProperty("datasets").GetProperty(name).EnumerateObject())
        {
            var expected = entry.Value.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            var actual = file.Root.GetDataset(entry.Name).ReadSingles();
            Assert.True(expected.SequenceEqual(actual), $"{name}: {entry.Name} differs from what h5py wrote.");
            datasets++;
        }
        Assert.True(datasets >= 7);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ChunkedDataEqualsTheSameDataStoredContiguously()
    {
        using var file = new Hdf5File(files.PathOf("chunked.h5"));
        Assert.Equal(file.Root.GetDataset("contiguous").ReadSingles(), file.Root.GetDataset("chunked_exact").ReadSingles());
        Assert.Equal([7L, 5L, 3L], file.Root.GetDataset("edges").Shape);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void UnsupportedFilterIsRefusedNamingItsIdAndName()
    {
        using var file = new Hdf5File(files.PathOf("chunked.h5"));
        var error = Assert.Throws<NotSupportedException>(() => file.Root.GetDataset("lzf").ReadSingles());
        Assert.Contains("/lzf", error.Message, StringComparison.Ordinal);
        Assert.Contains("filter 32000 ('lzf'", error.Message, StringComparison.Ordinal);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ZipBombChunkFailsFastAtTheChunkSize()
    {
        string path = files.PathOf("hostile_zip_bomb.h5");
        using var file = new Hdf5File(path);
        var watch = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => file.Root.GetDataset("bomb").ReadSingles());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith(path + ": /bomb (byte ", error.Message, StringComparison.Ordinal);
        Assert.Contains("inflates past the chunk's 1024 bytes", error.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.True(allocated < 8L << 20, $"allocated {allocated} bytes");
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void CorruptFletcher32ChecksumNamesTheDatasetAndChunk()
    {
        string path = files.PathOf("hostile_fletcher32.h5");
        long offset = files.Expected.RootElement.GetProperty("hostile").GetProperty("fletcher32").GetProperty("chunk_offset").GetInt64();
        using var file = new Hdf5File(path);
        var error = Assert.Throws<InvalidDataException>(() => file.Root.GetDataset("checked").ReadSingles());
        Assert.StartsWith($"{path}: /checked (byte {offset}): fletcher32 checksum mismatch", error.Message, StringComparison.Ordinal);
    }

    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("hostile_chunk_beyond.h5", "chunk address 1099511627776 lies outside the file")]
    [InlineData("hostile_btree_cycle.h5", "chunk B-tree nodes form a loop")]
    [InlineData("hostile_chunk_twice.h5", "is listed twice in the chunk index")]
    public void HostileChunkIndexesAreRefused(string name, string problem)
    {
        string path = files.PathOf(name);
        using var file = new Hdf5File(path);
        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<InvalidDataException>(() => file.Root.GetDataset("data").ReadSingles());
        Assert.StartsWith(path + ": /data (byte ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void EveryTruncationOfAChunkedFileIsRefusedCleanly()
    {
        var bytes = File.ReadAllBytes(files.PathOf("keras_latest.h5"));
        for (int length = 0; length < bytes.Length; length += 997)
        {
            try
            {
                using var file = new Hdf5File(new MemoryStream(bytes, 0, length));
                KerasH5WeightFile.Read(file);
            }
            catch (Exception e) when (e is InvalidDataException)
            {
            }
        }
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void KerasWeightsReadTheSameFromContiguousCompressedAndLatestFiles()
    {
        var plain = KerasH5WeightFile.Read(files.PathOf("keras_plain.h5"));
        var names = files.Expected.RootElement.GetProperty("keras_layers").EnumerateArray().Select(n => n.GetString()).ToList();
        Assert.Equal(names, plain.Layers.Select(l => l.Name));
        using (var h5 = new Hdf5File(files.PathOf("keras_gzip.h5")))
            Assert.NotNull(h5.Root.GetDataset("conv1/conv1/kernel:0")); // stored chunked, shuffled and deflated
        foreach (string other in new[] { "keras_gzip.h5", "keras_latest.h5" })
        {
            var file = KerasH5WeightFile.Read(files.PathOf(other));
            Assert.Equal(plain.KerasVersion, file.KerasVersion);
            Assert.Equal(plain.Layers.Select(l => l.Name), file.Layers.Select(l => l.Name));
            for (int i = 0; i < plain.Layers.Count; i++)
            {
                Assert.Equal(plain.Layers[i].Weights.Select(w => w.Name), file.Layers[i].Weights.Select(w => w.Name));
                for (int j = 0; j < plain.Layers[i].Weights.Count; j++)
                {
                    Assert.Equal(plain.Layers[i].Weights[j].Shape, file.Layers[i].Weights[j].Shape);
                    Assert.Equal(plain.Layers[i].Weights[j].Values, file.Layers[i].Weights[j].Values);
                }
            }
        }
    }
}
