using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;
using NativeCnn.Weights;
using NativeCnn.Weights.Keras;
using NativeCnn.Weights.SafeTensors;

namespace NativeCnn.Tests.Weights;

/// <summary>The safetensors model file: config + weights round trips, loading into built models by name and by order.</summary>
public sealed class ModelFileTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-modelfile-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData("efficientnet-b0", 1.0, 64)]
    [InlineData("mobilenetv2", 0.35, 96)]
    [InlineData("resnet50", 1.0, 32)]
    public void ZooModelSavedWithItsGeneratedConfigReloadsIdentically(string arch, double alpha, int resolution)
    {
        using var original = ModelZoo.Create(arch, new ApplicationOptions { Alpha = alpha, Resolution = resolution });
        Randomize(original, seed: 5);
        string path = Path.Combine(_work, $"{arch}.safetensors");
        ModelFile.Save(original, path, metadata: new Dictionary<string, string> { ["source"] = "test" });

        using var reloaded = ModelFile.Load(path);
        Assert.Equal(original.Layers.Select(l => $"{l.Name}:{l.ClassName}"), reloaded.Layers.Select(l => $"{l.Name}:{l.ClassName}"));
        Assert.Equal(original.ParameterCount, reloaded.ParameterCount);
        Assert.Equal(original.TrainableParameterCount, reloaded.TrainableParameterCount);
        using var x = Input(original, seed: 9);
        using var expected = original.Predict(x);
        using var actual = reloaded.Predict(x);
        Assert.Equal(expected.ToArray(), actual.ToArray()); // same graph, same weights: bit-identical

        using var file = new SafeTensorsFile(path);
        Assert.Equal("test", file.Metadata["source"]);
        Assert.Equal(ModelFile.FormatName, file.Metadata[ModelFile.FormatKey]);
        Assert.Equal(original.Weights.Select(w => w.FullName), file.Names);
    }

    [Fact]
    public void LoadWeightsFallsBackToLayerOrderWhenNoNameMatches()
    {
        using var source = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 64 });
        Randomize(source, seed: 6);
        // A legacy export: the same layers under other names.
        var writer = new SafeTensorsWriter();
        foreach (var w in source.Weights) writer.Add($"legacy_{w.Layer.Name}/{w.Name}", w.Shape.ToArray(), w.Value.ToArray());
        string path = Path.Combine(_work, "legacy.safetensors");
        writer.Save(path);

        using var target = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 64 });
        target.LoadWeights(path);
        using var x = Input(source, seed: 2);
        using var expected = source.Predict(x);
        using var actual = target.Predict(x);
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    [Fact]
    public void LoadWeightsNamesMissingAndMisshapenWeights()
    {
        using var source = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 64 });
        var writer = new SafeTensorsWriter();
        foreach (var w in source.Weights.Where(w => w.FullName != "Conv1/kernel"))
            writer.Add(w.FullName, w.FullName == "bn_Conv1/gamma" ? [(int)w.Shape.ElementCount, 1] : w.Shape.ToArray(), w.Value.ToArray());
        string path = Path.Combine(_work, "broken.safetensors");
        writer.Save(path);

        using var target = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 64 });
        var e = Assert.Throws<InvalidDataException>(() => target.LoadWeights(path));
        Assert.Contains("missing Conv1/kernel", e.Message);
        Assert.Contains("bn_Conv1/gamma: the model needs (16,), the file's bn_Conv1/gamma is (16, 1)", e.Message);
    }

    [Fact]
    public void LoadRefusesAFileWithoutAModelConfig()
    {
        var writer = new SafeTensorsWriter();
        writer.Add("dense/kernel", [2, 3], new float[6]);
        string path = Path.Combine(_work, "weights-only.safetensors");
        writer.Save(path);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.Contains("no 'keras_config'", e.Message);
    }

    [Fact]
    public void GeneratedConfigRoundTripsEveryLayerArgument()
    {
        using var model = ModelZoo.Create("efficientnet-b0", new ApplicationOptions { Resolution = 32, IncludeTop = false, Pooling = GlobalPooling.Max });
        string json = KerasModelConfig.ToJson(model);
        using var rebuilt = KerasModelConfig.Build(json);
        Assert.Equal(json, KerasModelConfig.ToJson(rebuilt));
        Assert.Equal(model.Nodes.Select(n => n.OutputShape), rebuilt.Nodes.Select(n => n.OutputShape));
    }

    private static void Randomize(Model model, int seed)
    {
        // Moving variances must stay positive; everything else is symmetric noise around the built values.
        int i = 0;
        foreach (var w in model.Weights)
        {
            var noise = TestData.Uniform(seed + i++, w.Value.Length, 0.9f, 1.1f);
            var span = w.Value.Span;
            for (int k = 0; k < span.Length; k++) span[k] = (span[k] + 0.01f) * noise[k];
        }
        model.InvalidatePlans();
    }

    private static Tensor Input(Model model, int seed) =>
        Tensor.FromArray(TestData.Uniform(seed, (int)model.Input.OutputShape.ElementCount, 0, 1), model.Input.OutputShape);
}
