using NativeCnn.Weights.Hdf5;
namespace NativeCnn.Tests.Weights;

/// <summary>
/// The fuzzing of <see cref="Hdf5FuzzTests"/> applied to the storage features of issue 14: chunked and filtered
/// datasets (every chunk index), dense links and attributes (fractal heaps, version 2 B-trees), fixed-length strings.
/// Truncated or bit-flipped copies must fail only with <see cref="InvalidDataException"/> or
/// <see cref="NotSupportedException"/>, quickly and without huge allocations.
/// </summary>
[Collection(Hdf5FeatureCollection.Name)]
public sealed class Hdf5FeatureFuzzTests(Hdf5FeatureFiles files)
{
    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("chunked.h5", false, 150)]
    [InlineData("chunked_latest.h5", false, 150)]
    [InlineData("dense.h5", false, 150)]
    [InlineData("keras_gzip.h5", true, 100)]
    [InlineData("keras_latest.h5", true, 100)]
    public void TruncatedFilesFailCleanly(string name, bool keras, int cases)
    {
        var original = ValidOriginal(name);
        var random = new Random(4321);
        for (int i = 0; i < cases; i++)
        {
            int length = i < cases / 2 ? (int)((long)original.Length * i / (cases / 2)) : random.Next(original.Length);
            var bytes = original.AsSpan(0, length).ToArray();
            Hdf5FuzzTests.RunCase(bytes, keras, $"{name} truncated to {length}");
            if (Hdf5FuzzTests.FixEndOfFile(bytes)) Hdf5FuzzTests.RunCase(bytes, keras, $"{name} truncated to {length}, end-of-file address patched");
        }
    }

    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("chunked.h5", false, 1500)]
    [InlineData("chunked_latest.h5", false, 1500)]
    [InlineData("dense.h5", false, 1500)]
    [InlineData("strings_latest.h5", false, 500)]
    [InlineData("keras_gzip.h5", true, 800)]
    [InlineData("keras_latest.h5", true, 800)]
    public void FlippedBytesFailCleanly(string name, bool keras, int cases)
    {
        var original = ValidOriginal(name);
        var random = new Random(name.Length * 104729 + cases);
        for (int i = 0; i < cases; i++)
        {
            var bytes = original.ToArray();
            int flips = 1 + random.Next(3);
            var where = new List<string>(flips);
            for (int f = 0; f < flips; f++)
            {
                // Half the flips land in the first 8 KiB, where the superblock, headers and indexes are.
                int offset = random.Next(2) == 0 ? random.Next(Math.Min(8192, bytes.Length)) : random.Next(bytes.Length);
                byte mask = (byte)(1 + random.Next(255));
                bytes[offset] ^= mask;
                where.Add($"{offset}^{mask:x2}");
            }
            Hdf5FuzzTests.RunCase(bytes, keras, $"{name} with bytes flipped at {string.Join(", ", where)}");
        }
    }

    // The fuzzing starts from a file that opens and holds objects, so the cases corrupt something real.
    private byte[] ValidOriginal(string name)
    {
        var bytes = File.ReadAllBytes(files.PathOf(name));
        using var file = new Hdf5File(new MemoryStream(bytes, writable: false));
        Assert.True(file.Root.Groups.Count + file.Root.Datasets.Count + file.Root.AttributeNames.Count > 0, $"{name} holds no objects");
        return bytes;
    }
}
