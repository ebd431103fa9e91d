using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;
using NativeCnn.Weights.Hdf5;
using NativeCnn.Weights.Keras;

namespace NativeCnn.Tests.Weights;

/// <summary>
/// The files written by <c>tests/reference/h5/make-hostile-h5.py</c>: a few MB each, but a reader that decoded every
/// link or heap reference anew would take more than 1 GB to read them.
/// </summary>
public sealed class Hdf5HostileFiles() : ScriptGeneratedH5Files("nativecnn-hostile-h5-", "make-hostile-h5.py");

/// <summary>
/// Amplification: hard links, shared heap objects, shared symbol tables and shared continuation blocks must either read
/// correctly with each object decoded once, or end in an <see cref="InvalidDataException"/> naming the file, the object
/// and the problem, with allocation bounded by the decode budget (a few tens of MB here) rather than the GB a naive
/// reader would need.
/// </summary>
[Collection(KerasH5Collection.Name)]
public sealed class Hdf5AmplificationTests(KerasH5Files files, Hdf5HostileFiles hostile) : IClassFixture<Hdf5HostileFiles>
{
    private const long MaxAllocation = 96L << 20;

    [ReferenceFact(ExternalReference.H5py)]
    public void HardLinksToOneGroupShareItsHeaderAndReadCorrectly()
    {
        string path = hostile.PathOf("hardlinks.h5");
        var expected = hostile.ExpectedFor("hardlinks.h5");
        var w = expected.GetProperty("w").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var file = new Hdf5File(path);
        var links = file.Root.GetGroup("links").Groups;
        Assert.Equal(expected.GetProperty("links").GetInt32(), links.Count);
        foreach (var link in links)
        {
            Assert.Same(links[0].Header, link.Header);
            Assert.Equal(20, link.AttributeNames.Count);
            var dataset = link.GetDataset("w");
            Assert.Equal(link.Path + "/w", dataset.Path);
            Assert.Equal(w, dataset.ReadSingles());
        }
        var first = links[0].GetDoubleArrayAttribute("a00");
        Assert.Equal(expected.GetProperty("a00").EnumerateArray().Select(v => v.GetDouble()), first.Take(3));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Unshared, the 1.1 MB header would be read and kept once per link: 1.1 GB.
        Assert.True(allocated < 16L << 20, $"allocated {allocated} bytes");
        Assert.True(file.DecodedBytes < 2 * new FileInfo(path).Length, $"decoded {file.DecodedBytes} bytes");
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ReadingALargeAttributeThroughEveryLinkSpendsTheBudget()
    {
        string path = hostile.PathOf("hardlinks.h5");
        using var file = new Hdf5File(path);
        Assert.Equal(Hdf5Reader.BudgetFileMultiple * new FileInfo(path).Length + Hdf5Reader.BudgetSlack, file.DecodeBudget);
        var error = Bounded(() =>
        {
            foreach (var link in file.Root.GetGroup("links").Groups)
                foreach (string name in link.AttributeNames) link.GetDoubleArrayAttribute(name);
        });
        AssertBudgetError(error, path, file.DecodeBudget, "/links/l00");
        Assert.Contains("attribute 'a", error.Message, StringComparison.Ordinal);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void Keras3LayersThatAreHardLinksToOneGroupAreRefused()
    {
        string path = hostile.PathOf("keras3_hardlinks.h5");
        var error = Bounded(() => KerasH5WeightFile.Read(path));
        Assert.StartsWith(path + ": /layers/k0001:", error.Message, StringComparison.Ordinal);
        Assert.Contains("layer key 'k0001' is the same object", error.Message, StringComparison.Ordinal);
        Assert.Contains("as /layers/k0000", error.Message, StringComparison.Ordinal);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void LegacyLayersThatAreHardLinksToOneGroupAreRefused()
    {
        string path = hostile.PathOf("legacy_hardlinks.h5");
        var error = Bounded(() => KerasH5WeightFile.Read(path));
        Assert.StartsWith(path + ": /layer_0001:", error.Message, StringComparison.Ordinal);
        Assert.Contains("the group of layer 'layer_0001' is the same object", error.Message, StringComparison.Ordinal);
        Assert.Contains("as /layer_0000", error.Message, StringComparison.Ordinal);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void WeightsThatAreHardLinksToOneDatasetAreRefused()
    {
        string path = hostile.PathOf("weight_links.h5");
        var error = Bounded(() => KerasH5WeightFile.Read(path));
        Assert.StartsWith(path + ": /dense/dense/k0001:0:", error.Message, StringComparison.Ordinal);
        Assert.Contains("weight 'dense/k0001:0' of layer 'dense' is the same object", error.Message, StringComparison.Ordinal);
        Assert.Contains("as /dense/dense/k0000:0", error.Message, StringComparison.Ordinal);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ReadingOneDatasetThroughEveryLinkSpendsTheBudget()
    {
        string path = hostile.PathOf("weight_links.h5");
        using var file = new Hdf5File(path);
        int reads = 0;
        var error = Bounded(() =>
        {
            foreach (var dataset in file.Root.GetGroup("data").Datasets)
            {
                Assert.Equal(280_000, dataset.ReadSingles().Length);
                reads++;
            }
        });
        AssertBudgetError(error, path, file.DecodeBudget, "/data/l00");
        Assert.Contains("reading the dataset needs 1120000 more bytes", error.Message, StringComparison.Ordinal);
        // The budget allows a few whole-file reads, not 1,000.
        Assert.InRange(reads, 2, (int)(file.DecodeBudget / 1_120_000));
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ManyStringsPointingAtOneLargeHeapObjectSpendTheBudget()
    {
        string path = hostile.PathOf("vlen_big.h5");
        var error = Bounded(() => KerasH5WeightFile.Read(path));
        long budget = Hdf5Reader.BudgetFileMultiple * new FileInfo(path).Length + Hdf5Reader.BudgetSlack;
        AssertBudgetError(error, path, budget, "/ attribute 'layer_names'");
        Assert.Contains("a variable-length string needs 1048576 more bytes", error.Message, StringComparison.Ordinal);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ManyStringsPointingAtOneSmallHeapObjectDecodeOnceAndTheRepeatedLayerIsRefused()
    {
        string path = hostile.PathOf("vlen_dup.h5");
        using (var file = new Hdf5File(path))
        {
            var names = file.Root.GetStringArrayAttribute("layer_names");
            Assert.Equal(hostile.ExpectedFor("vlen_dup.h5").GetProperty("count").GetInt32(), names.Length);
            Assert.All(names, n => Assert.Same(names[0], n));
            Assert.Equal("dense", names[0]);
        }
        var error = Bounded(() => KerasH5WeightFile.Read(path));
        Assert.Equal($"{path}: /: layer_names lists layer 'dense' more than once.", error.Message);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void GroupsSharingOneSymbolTableReadItOnce()
    {
        string path = hostile.PathOf("shared_heap.h5");
        var expected = hostile.ExpectedFor("shared_heap.h5");
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var file = new Hdf5File(path);
        var groups = file.Root.Groups.Where(g => g.Name.StartsWith('g')).ToList();
        Assert.Equal(expected.GetProperty("groups").GetInt32(), groups.Count);
        foreach (var group in groups)
            foreach (var value in expected.GetProperty("values").EnumerateObject())
                Assert.Equal(value.Value.EnumerateArray().Select(v => (float)v.GetDouble()), group.GetDataset(value.Name).ReadSingles());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Unshared, each group would read the 1.9 MB heap again: 1.9 GB.
        Assert.True(allocated < 24L << 20, $"allocated {allocated} bytes");
        Assert.True(file.DecodedBytes < 2 * new FileInfo(path).Length, $"decoded {file.DecodedBytes} bytes");
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void HeadersSharingOneContinuationBlockSpendTheBudget()
    {
        string path = hostile.PathOf("shared_block.h5");
        using var file = new Hdf5File(path);
        var error = Bounded(() =>
        {
            foreach (var group in file.Root.Groups) _ = group.AttributeNames;
        });
        AssertBudgetError(error, path, file.DecodeBudget, "/g0");
        Assert.Contains("object header block needs " + hostile.ExpectedFor("shared_block.h5").GetProperty("block_bytes").GetInt64(),
            error.Message, StringComparison.Ordinal);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void AWholeWellFormedFileDecodesWellInsideItsBudget()
    {
        foreach (string name in new[] { "legacy_weights.h5", "legacy_model.h5", "split_names.h5", "keras3.weights.h5" })
        {
            using var file = new Hdf5File(files.PathOf(name));
            KerasH5WeightFile.Read(file);
            long length = new FileInfo(files.PathOf(name)).Length;
            Assert.True(file.DecodedBytes < 3 * length + (1 << 20), $"{name}: decoded {file.DecodedBytes} bytes of a {length}-byte file");
        }
    }

    /// <summary>
    /// Seeded fuzz over links: symbol-table entries of valid files are redirected at other objects' headers, making hard
    /// links, DAGs and cycles. Reading must succeed or fail cleanly, quickly and with bounded allocation.
    /// </summary>
    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("legacy_weights.h5", 300)]
    [InlineData("legacy_model.h5", 300)]
    [InlineData("split_names.h5", 60)]
    public void RewiredLinksReadOrFailCleanly(string name, int cases)
    {
        var original = File.ReadAllBytes(files.PathOf(name));
        var entries = SymbolEntries(original);
        var targets = entries.Select(e => BinaryPrimitives.ReadInt64LittleEndian(original.AsSpan(e))).Distinct().ToArray();
        var random = new Random(20261202 + cases);
        for (int i = 0; i < cases; i++)
        {
            var bytes = original.ToArray();
            int rewires = 1 + random.Next(8);
            var what = new List<string>(rewires);
            for (int r = 0; r < rewires; r++)
            {
                int entry = entries[random.Next(entries.Count)];
                long target = targets[random.Next(targets.Length)];
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(entry), target);
                what.Add($"{entry}->{target}");
            }
            RunCase(bytes, $"{name} with links rewired {string.Join(", ", what)}");
        }
    }

    /// <summary>
    /// Seeded fuzz over heap references: variable-length string elements are redirected at other global heap objects
    /// (each with its true length, so that only the sharing is hostile).
    /// </summary>
    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("legacy_weights.h5", 300)]
    [InlineData("legacy_model.h5", 300)]
    public void RewiredHeapReferencesReadOrFailCleanly(string name, int cases)
    {
        var original = File.ReadAllBytes(files.PathOf(name));
        var heapObjects = GlobalHeapObjects(original);
        var references = VariableLengthElements(original, heapObjects);
        Assert.True(references.Count > 20, $"{name}: only {references.Count} heap references found");
        var random = new Random(20261203 + cases);
        for (int i = 0; i < cases; i++)
        {
            var bytes = original.ToArray();
            int rewires = 1 + random.Next(64);
            for (int r = 0; r < rewires; r++)
            {
                var (collection, index, length) = heapObjects[random.Next(heapObjects.Count)];
                var element = bytes.AsSpan(references[random.Next(references.Count)]);
                BinaryPrimitives.WriteUInt32LittleEndian(element, length);
                BinaryPrimitives.WriteInt64LittleEndian(element[4..], collection);
                BinaryPrimitives.WriteUInt32LittleEndian(element[12..], index);
            }
            RunCase(bytes, $"{name} case {i} with {rewires} heap references rewired");
        }
    }

    private static InvalidDataException Bounded(Action read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<InvalidDataException>(read);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < MaxAllocation, $"allocated {allocated} bytes before: {error.Message}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed.TotalSeconds:F1} s");
        return error;
    }

    private static InvalidDataException Bounded(Func<KerasH5WeightFile> read) => Bounded(() => { _ = read(); });

    private static void AssertBudgetError(InvalidDataException error, string path, long budget, string objectPath)
    {
        Assert.StartsWith(path + ": " + objectPath, error.Message, StringComparison.Ordinal);
        Assert.Contains($"decode budget of {budget} bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("refers to the same data over and over", error.Message, StringComparison.Ordinal);
    }

    private static void RunCase(byte[] bytes, string what)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        try
        {
            using var file = new Hdf5File(new MemoryStream(bytes, writable: false));
            Tolerate(() => KerasH5WeightFile.Read(file));
            Walk(file.Root);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            // A clean refusal.
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < MaxAllocation, $"{what}: allocated {allocated} bytes");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"{what}: took {clock.Elapsed.TotalMilliseconds:F0} ms");
    }

    private static void Walk(Hdf5Group group)
    {
        Tolerate(() =>
        {
            foreach (string name in group.AttributeNames) Tolerate(() => group.GetStringArrayAttribute(name));
        });
        Tolerate(() =>
        {
            foreach (var dataset in group.Datasets) Tolerate(() => dataset.ReadSingles());
        });
        Tolerate(() =>
        {
            foreach (var child in group.Groups) Walk(child);
        });
    }

    private static void Tolerate(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            // Expected for hostile input; keep walking what remains readable.
        }
    }

    private static void Tolerate<T>(Func<T> read) => Tolerate(() => { _ = read(); });

    /// <summary>File offsets of the object header address field of every symbol node entry (offsets and lengths of 8 bytes).</summary>
    private static List<int> SymbolEntries(byte[] bytes)
    {
        var fields = new List<int>();
        for (int at = bytes.AsSpan().IndexOf("SNOD"u8); at >= 0;)
        {
            int count = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 6));
            for (int i = 0; i < count; i++) fields.Add(at + 8 + i * 40 + 8);
            int next = bytes.AsSpan(at + 4).IndexOf("SNOD"u8);
            at = next < 0 ? -1 : at + 4 + next;
        }
        return fields;
    }

    /// <summary>Every object of every global heap collection: (collection address, index, size).</summary>
    private static List<(long Collection, uint Index, uint Length)> GlobalHeapObjects(byte[] bytes)
    {
        var objects = new List<(long, uint, uint)>();
        for (int at = bytes.AsSpan().IndexOf("GCOL"u8); at >= 0;)
        {
            long size = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(at + 8));
            for (long p = at + 16; p + 16 <= at + size;)
            {
                int index = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)p));
                long length = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)p + 8));
                if (index == 0) break;
                objects.Add((at, (uint)index, (uint)length));
                p += 16 + ((length + 7) & ~7L);
            }
            int next = bytes.AsSpan(at + 4).IndexOf("GCOL"u8);
            at = next < 0 ? -1 : at + 4 + next;
        }
        return objects;
    }

    /// <summary>Offsets of the 16-byte variable-length elements (length, collection, index) that name a real heap object.</summary>
    private static List<int> VariableLengthElements(byte[] bytes, List<(long Collection, uint Index, uint Length)> objects)
    {
        var known = objects.ToHashSet();
        var elements = new List<int>();
        for (int p = 0; p + 16 <= bytes.Length; p++)
        {
            var e = bytes.AsSpan(p);
            if (known.Contains((BinaryPrimitives.ReadInt64LittleEndian(e[4..]), BinaryPrimitives.ReadUInt32LittleEndian(e[12..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(e))))
                elements.Add(p);
        }
        return elements;
    }
}
