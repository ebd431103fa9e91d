using System.Diagnostics;
using NativeCnn.Weights.Hdf5;
using NativeCnn.Weights.Keras;

namespace NativeCnn.Tests.Weights;

/// <summary>
/// Corrupted copies of valid files (truncated, or with bytes flipped at seeded offsets) must fail only with
/// <see cref="InvalidDataException"/> or <see cref="NotSupportedException"/>, quickly and without huge allocations.
/// </summary>
[Collection(KerasH5Collection.Name)]
public sealed class Hdf5FuzzTests(KerasH5Files files)
{
    private const long MaxAllocationPerCase = 64L << 20;
    private static readonly TimeSpan MaxTimePerCase = TimeSpan.FromSeconds(1);

    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("legacy_weights.h5", true, 200)]
    [InlineData("keras3_old.weights.h5", true, 200)]
    [InlineData("generic.h5", false, 150)]
    [InlineData("latest.h5", false, 150)]
    public void TruncatedFilesFailCleanly(string name, bool keras, int cases)
    {
        var original = File.ReadAllBytes(files.PathOf(name));
        var random = new Random(1234);
        for (int i = 0; i < cases; i++)
        {
            int length = i < cases / 2 ? (int)((long)original.Length * i / (cases / 2)) : random.Next(original.Length);
            var bytes = original.AsSpan(0, length).ToArray();
            RunCase(bytes, keras, $"{name} truncated to {length}");
            // Also claim the shorter length in the superblock, so reads past the end meet the per-read checks.
            if (FixEndOfFile(bytes)) RunCase(bytes, keras, $"{name} truncated to {length}, end-of-file address patched");
        }
    }

    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("legacy_weights.h5", true, 1500)]
    [InlineData("keras3_old.weights.h5", true, 1000)]
    [InlineData("generic.h5", false, 1500)]
    [InlineData("latest.h5", false, 1500)]
    public void FlippedBytesFailCleanly(string name, bool keras, int cases)
    {
        var original = File.ReadAllBytes(files.PathOf(name));
        var random = new Random(name.Length * 7919 + cases);
        for (int i = 0; i < cases; i++)
        {
            var bytes = original.ToArray();
            int flips = 1 + random.Next(3);
            var where = new List<string>(flips);
            for (int f = 0; f < flips; f++)
            {
                int offset = random.Next(bytes.Length);
                byte mask = (byte)(1 + random.Next(255));
                bytes[offset] ^= mask;
                where.Add($"{offset}^{mask:x2}");
            }
            RunCase(bytes, keras, $"{name} with bytes flipped at {string.Join(", ", where)}");
        }
    }

    internal static bool FixEndOfFile(byte[] bytes)
    {
        if (bytes.Length < 48) return false;
        int field = bytes[8] switch { 0 => 40, 2 or 3 => 28, _ => -1 };
        if (field < 0) return false;
        BitConverter.TryWriteBytes(bytes.AsSpan(field, 8), (long)bytes.Length);
        return true;
    }

    internal static void RunCase(byte[] bytes, bool keras, string what)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        try
        {
            using var file = new Hdf5File(new MemoryStream(bytes, writable: false));
            if (keras) Tolerate(() => KerasH5WeightFile.Read(file));
            Walk(file.Root);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            // The expected outcome for most corruptions.
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        }
        clock.Stop();
        Assert.True(clock.Elapsed < MaxTimePerCase, $"{what}: took {clock.Elapsed.TotalMilliseconds:F0} ms");
        long used = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.True(used < MaxAllocationPerCase, $"{what}: allocated {used} bytes");
    }

    /// <summary>Visits every reachable object, attribute and dataset, continuing past the expected failures.</summary>
    private static void Walk(Hdf5Group group)
    {
        VisitAttributes(group);
        Tolerate(() =>
        {
            foreach (var dataset in group.Datasets)
            {
                VisitAttributes(dataset);
                Tolerate(() => dataset.Shape);
                Tolerate(() => dataset.ElementType);
                Tolerate(() => dataset.ReadSingles());
            }
        });
        Tolerate(() =>
        {
            foreach (var child in group.Groups) Walk(child);
        });
    }

    private static void VisitAttributes(Hdf5Object item) => Tolerate(() =>
    {
        foreach (string name in item.AttributeNames)
        {
            try
            {
                item.GetStringArrayAttribute(name);
            }
            catch (InvalidDataException)
            {
                Tolerate(() => item.GetDoubleArrayAttribute(name));
            }
        }
    });

    private static void Tolerate(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            // Expected for corrupt input; keep walking what remains readable.
        }
    }

    private static void Tolerate<T>(Func<T> read) => Tolerate(() => { _ = read(); });
}
