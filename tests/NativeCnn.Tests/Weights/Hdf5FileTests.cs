using System.Text.Json;
using NativeCnn.Weights.Hdf5;

namespace NativeCnn.Tests.Weights;

[Collection(KerasH5Collection.Name)]
public sealed class Hdf5FileTests(KerasH5Files files)
{
    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("generic.h5", 0)]
    [InlineData("latest.h5", 3)]
    public void ReadsDatasetsOfEveryStoredType(string name, int superblockVersion)
    {
        using var file = new Hdf5File(files.PathOf(name));
        Assert.Equal(superblockVersion, file.SuperblockVersion);
        foreach (var entry in files.ExpectedFor(name).EnumerateObject())
        {
            var dataset = file.Root.GetDataset(entry.Name);
            Assert.Equal("/" + entry.Name, dataset.Path);
            var expected = entry.Value.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            Assert.Equal(expected, dataset.ReadSingles());
            Assert.Equal(expected.Length, dataset.ElementCount);
        }
        var root = file.Root;
        Assert.Equal(Hdf5ElementType.Float32, root.GetDataset("big_endian").ElementType);
        Assert.Equal([2L, 3L], root.GetDataset("big_endian").Shape);
        Assert.Equal(Hdf5ElementType.SignedInteger, root.GetDataset("ints").ElementType);
        Assert.Equal(Hdf5ElementType.UnsignedInteger, root.GetDataset("nested/deeper/u8").ElementType);
        Assert.Equal(Hdf5ElementType.Float64, root.GetDataset("scalar").ElementType);
        Assert.Empty(root.GetDataset("scalar").Shape);
        Assert.Equal([0L, 3L], root.GetDataset("empty").Shape);
    }

    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("generic.h5")]
    [InlineData("latest.h5")]
    public void ReadsAttributesOfEveryStoredType(string name)
    {
        using var file = new Hdf5File(files.PathOf(name));
        var root = file.Root;
        Assert.Equal([1.5, -2.0, 3.25], root.GetDoubleArrayAttribute("numbers"));
        Assert.Equal(["alpha", "\u03b2eta", ""], root.GetStringArrayAttribute("vlen_list"));
        Assert.Equal("fixed", root.GetStringAttribute("fixed_scalar"));
        Assert.Equal("ab  ", root.GetStringAttribute("trailing_spaces")); // as h5py reads it
        Assert.Empty(root.GetDoubleArrayAttribute("null_space"));
        Assert.Empty(root.GetStringArrayAttribute("null_space"));
        Assert.Contains("numbers", root.AttributeNames);
        Assert.False(root.HasAttribute("missing"));
        Assert.Throws<KeyNotFoundException>(() => root.GetStringAttribute("missing"));
        Assert.Throws<InvalidDataException>(() => root.GetStringArrayAttribute("numbers"));
        Assert.Throws<InvalidDataException>(() => root.GetDoubleArrayAttribute("vlen_list"));
        Assert.Throws<InvalidDataException>(() => root.GetStringAttribute("vlen_list"));
    }

    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("generic.h5")]
    [InlineData("latest.h5")]
    public void ListsAndNavigatesGroups(string name)
    {
        using var file = new Hdf5File(files.PathOf(name));
        var root = file.Root;
        Assert.Equal("/", root.Path);
        Assert.Equal(["big_endian", "compact", "empty", "ints", "scalar"], root.Datasets.Select(d => d.Name).Order(StringComparer.Ordinal));
        var nested = root.GetGroup("nested");
        Assert.Equal("/nested/deeper", nested.Groups.Single().Path);
        Assert.Same(nested.Groups.Single(), root.GetGroup("nested/deeper"));
        Assert.Equal("u8", root.GetGroup("nested/deeper").Datasets.Single().Name);
        Assert.Same(root, root.GetGroup(""));
        Assert.False(root.TryGetGroup("ints", out _));
        Assert.False(root.TryGetDataset("nested", out _));
        Assert.Throws<KeyNotFoundException>(() => root.GetGroup("nope"));
        Assert.Throws<KeyNotFoundException>(() => root.GetDataset("nested/nope"));
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ReadsDenseAttributeStorage()
    {
        using var file = new Hdf5File(files.PathOf("latest.h5"));
        var group = file.Root.GetGroup("dense_attributes");
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"a{i}").Order(StringComparer.Ordinal), group.AttributeNames.Order(StringComparer.Ordinal));
        for (int i = 0; i < 20; i++) Assert.Equal([i], group.GetDoubleArrayAttribute($"a{i}"));
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ReadsDenseLinkStorage()
    {
        using var file = new Hdf5File(files.PathOf("latest.h5"));
        var group = file.Root.GetGroup("extra/dense_links");
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"g{i}").Order(StringComparer.Ordinal), group.Groups.Select(g => g.Name).Order(StringComparer.Ordinal));
        Assert.Equal("/extra/dense_links/g7", group.GetGroup("g7").Path);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void CreationOrderedGroupListsItsLinks()
    {
        using var file = new Hdf5File(files.PathOf("latest.h5"));
        Assert.Equal(["alpha", "mid", "zeta"], file.Root.GetGroup("extra/ordered").Datasets.Select(d => d.Name).Order(StringComparer.Ordinal));
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ManyGroupsSpanAMultiLevelBTreeInNameOrder()
    {
        using var file = new Hdf5File(files.PathOf("split_names.h5"));
        var names = file.Root.Groups.Select(g => g.Name).ToList();
        Assert.Equal(1501, names.Count); // 1500 layers and top_level_model_weights
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void RejectsWhatIsNotHdf5()
    {
        Assert.Throws<InvalidDataException>(() => new Hdf5File(new MemoryStream(new byte[100])));
        Assert.Throws<InvalidDataException>(() => new Hdf5File(new MemoryStream(new byte[3])));
        var bytes = File.ReadAllBytes(files.PathOf("generic.h5"));
        bytes[8] = 7;
        var error = Assert.Throws<NotSupportedException>(() => new Hdf5File(new MemoryStream(bytes)));
        Assert.Contains("superblock version 7", error.Message, StringComparison.Ordinal);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void TruncatedFileNamesTheExpectedLength()
    {
        var bytes = File.ReadAllBytes(files.PathOf("generic.h5"));
        var error = Assert.Throws<InvalidDataException>(() => new Hdf5File(new MemoryStream(bytes, 0, bytes.Length - 10)));
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void RequiresASeekableStream()
    {
        Assert.Throws<ArgumentException>(() => new Hdf5File(new NonSeekableStream()));
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void DisposingClosesTheStreamUnlessAskedToLeaveItOpen()
    {
        var bytes = File.ReadAllBytes(files.PathOf("generic.h5"));
        var kept = new MemoryStream(bytes);
        new Hdf5File(kept, leaveOpen: true).Dispose();
        Assert.True(kept.CanRead);
        var closed = new MemoryStream(bytes);
        new Hdf5File(closed).Dispose();
        Assert.False(closed.CanRead);
    }

    private sealed class NonSeekableStream : MemoryStream
    {
        public override bool CanSeek => false;
    }
}
