using NativeCnn.Weights.Hdf5;

namespace NativeCnn.Tests.Weights;

/// <summary>
/// Dense link and attribute storage (fractal heap and version 2 B-tree, issue 14) and string attributes of every
/// encoding h5py writes: fixed-length NUL-terminated, NUL-padded and space-padded, ASCII and UTF-8, and variable-length.
/// </summary>
[Collection(Hdf5FeatureCollection.Name)]
public sealed class Hdf5DenseStorageTests(Hdf5FeatureFiles files)
{
    private List<string> ExpectedNames(string key) =>
        files.Expected.RootElement.GetProperty("dense").GetProperty(key).EnumerateArray().Select(n => n.GetString()!).ToList();

    [ReferenceFact(ExternalReference.H5py)]
    public void TrackOrderGroupListsItsDenseLinksInCreationOrder()
    {
        using var file = new Hdf5File(files.PathOf("dense.h5"));
        var group = file.Root.GetGroup("ordered");
        var expected = ExpectedNames("ordered");
        Assert.Equal(expected[..^1], group.Groups.Select(g => g.Name));
        Assert.Equal("a_dataset", group.Datasets.Single().Name);
        for (int i = 0; i < expected.Count - 1; i++)
            Assert.Equal([i], group.GetGroup(expected[i]).GetDoubleArrayAttribute("index"));
        var values = files.Expected.RootElement.GetProperty("datasets").GetProperty("dense.h5").GetProperty("/ordered/a_dataset");
        Assert.Equal(values.EnumerateArray().Select(v => (float)v.GetDouble()), group.GetDataset("a_dataset").ReadSingles());
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void DenseGroupWithoutCreationOrderListsEveryLink()
    {
        using var file = new Hdf5File(files.PathOf("dense.h5"));
        var group = file.Root.GetGroup("by_name");
        Assert.Equal(ExpectedNames("by_name"), group.Groups.Select(g => g.Name).Order(StringComparer.Ordinal));
        Assert.Equal("/by_name/g17", group.GetGroup("g17").Path);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void DenseAttributesReadInCreationOrderWithEveryType()
    {
        using var file = new Hdf5File(files.PathOf("dense.h5"));
        var group = file.Root.GetGroup("attributes");
        Assert.Equal(ExpectedNames("attributes"), group.AttributeNames);
        for (int i = 0; i < 25; i++) Assert.Equal([i * 1.5], group.GetDoubleArrayAttribute($"n{i:00}"));
        Assert.Equal("a variable-length string in dense storage", group.GetStringAttribute("text"));
        Assert.Equal(["conv/kernel:0", "conv/bias:0"], group.GetStringArrayAttribute("names"));
        Assert.Equal("fixed in dense storage", group.GetStringAttribute("fixed"));
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void LargeDenseAttributeReadsWhole()
    {
        using var file = new Hdf5File(files.PathOf("dense.h5"));
        var group = file.Root.GetGroup("attributes_by_name");
        int length = files.Expected.RootElement.GetProperty("dense").GetProperty("model_config_length").GetInt32();
        Assert.Equal(length, group.GetStringAttribute("model_config").Length);
        Assert.Equal(group.GetStringAttribute("model_config"), group.GetStringAttribute("model_config_bytes"));
        Assert.Equal(group.GetStringAttribute("model_config"), group.GetStringAttribute("model_config_fixed"));
        Assert.Equal(15, group.AttributeNames.Count);
        Assert.Equal([11.0], group.GetDoubleArrayAttribute("m11"));
    }

    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("strings.h5")]
    [InlineData("strings_latest.h5")]
    public void StringAttributesOfEveryPaddingAndCharacterSetRead(string name)
    {
        using var file = new Hdf5File(files.PathOf(name));
        foreach (var entry in files.Expected.RootElement.GetProperty("strings").EnumerateObject())
        {
            var expected = entry.Value.EnumerateArray().Select(v => v.GetString()!).ToArray();
            Assert.Equal(expected, file.Root.GetStringArrayAttribute(entry.Name));
            if (expected.Length == 1) Assert.Equal(expected[0], file.Root.GetStringAttribute(entry.Name));
        }
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void TruncatedOrCorruptedDenseFilesFailCleanly()
    {
        var bytes = File.ReadAllBytes(files.PathOf("dense.h5"));
        var random = new Random(20261203);
        for (int trial = 0; trial < 300; trial++)
        {
            var copy = (byte[])bytes.Clone();
            int length = copy.Length;
            if (trial % 3 == 0) length = random.Next(copy.Length);
            else for (int k = 0; k < 4; k++) copy[random.Next(4096)] ^= (byte)(1 << random.Next(8));
            try
            {
                using var file = new Hdf5File(new MemoryStream(copy, 0, length));
                foreach (var group in file.Root.Groups)
                {
                    _ = group.AttributeNames;
                    foreach (var child in group.Groups) _ = child.AttributeNames;
                    foreach (var dataset in group.Datasets) dataset.ReadSingles();
                }
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException)
            {
            }
        }
    }
}
