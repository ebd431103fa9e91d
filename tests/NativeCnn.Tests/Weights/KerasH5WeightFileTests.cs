using System.Text.Json;
using NativeCnn.Weights.Hdf5;
using NativeCnn.Weights.Keras;

namespace NativeCnn.Tests.Weights;

[Collection(KerasH5Collection.Name)]
public sealed class KerasH5WeightFileTests(KerasH5Files files)
{
    [ReferenceTheory(ExternalReference.H5py)]
    [InlineData("legacy_weights.h5")]
    [InlineData("legacy_model.h5")]
    [InlineData("fixedstr.h5")]
    [InlineData("split_names.h5")]
    [InlineData("keras3.weights.h5")]
    [InlineData("keras3_old.weights.h5")]
    public void ReadsEveryLayerAndValueTheWriterStored(string name)
    {
        var expected = files.ExpectedFor(name);
        var file = KerasH5WeightFile.Read(files.PathOf(name));

        Assert.Equal(Enum.Parse<KerasH5Format>(expected.GetProperty("format").GetString()!), file.Format);
        Assert.Equal(expected.GetProperty("keras_version").GetString(), file.KerasVersion);
        Assert.Equal(expected.GetProperty("backend").GetString(), file.Backend);
        Assert.Equal(expected.GetProperty("model_config").GetString(), file.ModelConfigJson);

        var layers = expected.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(layers.Select(l => l.GetProperty("name").GetString()), file.Layers.Select(l => l.Name));
        int values = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = file.Layers[i];
            Assert.Equal(layers[i].GetProperty("group").GetString(), layer.GroupPath);
            var weights = layers[i].GetProperty("weights").EnumerateArray().ToList();
            Assert.Equal(weights.Select(w => w.GetProperty("name").GetString()), layer.Weights.Select(w => w.Name));
            for (int j = 0; j < weights.Count; j++)
            {
                var tensor = layer.Weights[j];
                Assert.Equal(weights[j].GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()), tensor.Shape);
                var expectedValues = weights[j].GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
                // Bit-exact: the script stored these float32 values (float64 and float16 rounded to float32 as NumPy does).
                Assert.Equal(expectedValues, tensor.Values);
                values += expectedValues.Length;
            }
        }
        Assert.True(values > 0 || layers.Count == 0);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void LegacyFileStripsTheTensorFlowSuffixAndKeepsWeightlessLayers()
    {
        var file = KerasH5WeightFile.Read(files.PathOf("legacy_weights.h5"));
        var dwconv = file.Layers.Single(l => l.Name == "block1a_dwconv");
        Assert.Equal("block1a_dwconv/depthwise_kernel", dwconv.Weights.Single().Name);
        Assert.Equal([3, 3, 8, 1], dwconv.Weights.Single().Shape);
        Assert.Empty(file.Layers.Single(l => l.Name == "input_1").Weights);
        Assert.Equal("input_1", file.Layers[0].Name);
        var normalization = file.Layers.Single(l => l.Name == "normalization");
        Assert.Equal(["normalization/mean", "normalization/variance", "normalization/count"], normalization.Weights.Select(w => w.Name));
        Assert.Empty(normalization.Weights[2].Shape); // int64 scalar count
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ModelSaveFileCarriesItsConfigurationAsJson()
    {
        var file = KerasH5WeightFile.Read(files.PathOf("legacy_model.h5"));
        using var config = JsonDocument.Parse(file.ModelConfigJson!);
        Assert.Equal("Functional", config.RootElement.GetProperty("class_name").GetString());
        Assert.True(file.ModelConfigJson!.Length > 64 * 1024);
        Assert.All(file.Layers, l => Assert.StartsWith("/model_weights/", l.GroupPath, StringComparison.Ordinal));
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void SplitLayerNamesAreConcatenatedInOrder()
    {
        using var h5 = new Hdf5File(files.PathOf("split_names.h5"));
        Assert.False(h5.Root.HasAttribute("layer_names"));
        var first = h5.Root.GetStringArrayAttribute("layer_names0");
        var second = h5.Root.GetStringArrayAttribute("layer_names1");
        var file = KerasH5WeightFile.Read(h5);
        Assert.Equal(first.Concat(second), file.Layers.Select(l => l.Name));
        Assert.Equal(1500, file.Layers.Count);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void Keras3KeysAreInNaturalOrder()
    {
        var file = KerasH5WeightFile.Read(files.PathOf("keras3_old.weights.h5"));
        var convKeys = file.Layers.Select(l => l.Name).Where(n => n.StartsWith("conv2d", StringComparison.Ordinal)).ToList();
        Assert.Equal(["conv2d", "conv2d_1", "conv2d_2"], convKeys.Take(3));
        Assert.Equal("conv2d_12", convKeys[^1]);
        Assert.Equal("conv2d_1/vars/1", file.Layers.Single(l => l.Name == "conv2d_1").Weights[1].Name);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ChunkedAndCompressedDatasetsAreRead()
    {
        var file = KerasH5WeightFile.Read(files.PathOf("chunked.h5"));
        Assert.Equal([3, 3, 3, 8], file.Layers.Single(l => l.Name == "stem_conv").Weights.Single().Shape);
        var predictions = file.Layers.Single(l => l.Name == "predictions").Weights;
        Assert.Equal([2, 5], predictions[0].Shape);
        Assert.All(predictions[0].Values, v => Assert.True(float.IsFinite(v) && v != 0));
        // The same layer set and dtypes as legacy_weights.h5; only the storage of two kernels differs.
        Assert.Equal(KerasH5WeightFile.Read(files.PathOf("legacy_weights.h5")).Layers.Select(l => l.Name), file.Layers.Select(l => l.Name));
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void PlainHdf5FileIsNotAKerasFile()
    {
        var error = Assert.Throws<InvalidDataException>(() => KerasH5WeightFile.Read(files.PathOf("generic.h5")));
        Assert.Contains("not a Keras weight file", error.Message, StringComparison.Ordinal);
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ReadsFromAStreamAndLeavesItOpen()
    {
        using var stream = new MemoryStream(File.ReadAllBytes(files.PathOf("legacy_weights.h5")));
        var file = KerasH5WeightFile.Read(stream);
        Assert.Equal(13, file.Layers.Count);
        Assert.True(stream.CanRead);
    }
}
