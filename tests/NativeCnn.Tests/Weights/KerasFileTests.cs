using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Tests.Models;
using NativeCnn.Weights;
using NativeCnn.Weights.Keras;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Weights;

/// <summary>
/// One model, saved in every Keras layout (Keras 2 model.save and save_weights .h5, Keras 3 .weights.h5 with and
/// without layer names, a .keras archive — written by h5py as Keras writes them) and as a TensorFlow.js layers model
/// saved by tfjs itself; each must load and predict what TensorFlow.js predicted with the same weights.
/// </summary>
public sealed class KerasFileTests(KerasFileTests.Exports exports, ITestOutputHelper output) : IClassFixture<KerasFileTests.Exports>
{
    /// <summary>Exports a MobileNetV2 0.35 with a custom head and an EfficientNet-B0 once for the class.</summary>
    public sealed class Exports : IDisposable
    {
        public Exports()
        {
            Root = Directory.CreateTempSubdirectory("nativecnn-kerasfile-").FullName;
            Export("mobilenet-head", ["--arch", "mobilenetv2", "--alpha", "0.35", "--resolution", "96"], head: true);
            Export("efficientnet-b0", ["--arch", "efficientnet-b0", "--resolution", "224"], head: false);
        }

        public string Root { get; }

        public void Dispose() => Directory.Delete(Root, recursive: true);

        private void Export(string name, string[] model, bool head)
        {
            string dir = Path.Combine(Root, name);
            string arch = model[1], resolution = model[^1];
            TensorFlowJsReference.Run("make-random-weights.mjs", [.. model, "--out", Path.Combine(dir, "random"), "--seed", "13"]);
            TensorFlowJsReference.Run("make-random-input.mjs", "--arch", arch, "--resolution", resolution, "--out", Path.Combine(dir, "x.npy"), "--seed", "8");
            TensorFlowJsReference.Run("export-config.mjs", [.. model, "--weights", Path.Combine(dir, "random"), "--input", Path.Combine(dir, "x.npy"),
                "--out-dir", dir, .. head ? ["--head"] : Array.Empty<string>()]);
            string script = Path.Combine(TestPaths.RepositoryRoot, "tests", "reference", "h5", "write-keras-model.py");
            TestProcess.Run("/usr/bin/python3", [script, Path.Combine(dir, "model-config.json"), Path.Combine(dir, "weights"), Path.Combine(dir, "keras")], dir);
        }
    }

    [ReferenceTheory(ExternalReference.TensorFlowJs, ExternalReference.H5py)]
    [InlineData("mobilenet-head", "keras/legacy-model.h5", "Keras 2 HDF5 (model.save)")]
    [InlineData("mobilenet-head", "keras/model.keras", "Keras 3 .keras archive")]
    [InlineData("mobilenet-head", "tfjs/model.json", "TensorFlow.js layers model")]
    [InlineData("efficientnet-b0", "keras/legacy-model.h5", "Keras 2 HDF5 (model.save)")]
    [InlineData("efficientnet-b0", "tfjs/model.json", "TensorFlow.js layers model")]
    public void FilesWithAConfigRebuildTheModelAndPredictAsTensorFlowJs(string model, string file, string format)
    {
        var keras = KerasFile.Read(Path.Combine(exports.Root, model, file));
        Assert.Equal(format, keras.Format);
        using var rebuilt = keras.BuildModel();
        AssertPredictsAsTensorFlowJs(rebuilt, model);
    }

    [ReferenceTheory(ExternalReference.TensorFlowJs, ExternalReference.H5py)]
    [InlineData("mobilenet-head", "keras/legacy-weights.h5", "Keras 2 HDF5 (save_weights)")]
    [InlineData("mobilenet-head", "keras/keras3.weights.h5", "Keras 3 .weights.h5")]
    [InlineData("mobilenet-head", "keras/keras3-old.weights.h5", "Keras 3 .weights.h5")]
    public void WeightsOnlyFilesLoadIntoTheModelBuiltFromItsConfig(string model, string file, string format)
    {
        var keras = KerasFile.Read(Path.Combine(exports.Root, model, file));
        Assert.Equal(format, keras.Format);
        Assert.Null(keras.ModelConfigJson);
        Assert.Throws<InvalidDataException>(() => keras.BuildModel());
        using var built = KerasModelConfig.Build(File.ReadAllText(Path.Combine(exports.Root, model, "model-config.json")));
        keras.LoadInto(built);
        AssertPredictsAsTensorFlowJs(built, model);
    }

    [ReferenceTheory(ExternalReference.TensorFlowJs, ExternalReference.H5py)]
    [InlineData("keras/legacy-weights.h5")]
    [InlineData("keras/keras3.weights.h5")]
    [InlineData("keras/keras3-old.weights.h5")]
    [InlineData("keras/model.keras")]
    [InlineData("tfjs/model.json")]
    public void EveryLayoutLoadsIntoTheBuilderModel(string file)
    {
        using var zoo = EfficientNet.B0(new ApplicationOptions());
        KerasFile.Read(Path.Combine(exports.Root, "efficientnet-b0", file)).LoadInto(zoo);
        AssertPredictsAsTensorFlowJs(zoo, "efficientnet-b0");
    }

    [ReferenceTheory(ExternalReference.TensorFlowJs, ExternalReference.H5py)]
    [InlineData("keras/legacy-weights.h5")]
    [InlineData("keras/keras3.weights.h5")]
    [InlineData("keras/model.keras")]
    [InlineData("tfjs/model.json")]
    [InlineData("converted.safetensors")]
    [InlineData("random")]
    public void LoadWeightsRecognizesEveryFormatByContent(string file)
    {
        string dir = Path.Combine(exports.Root, "efficientnet-b0");
        string path = Path.Combine(dir, file);
        if (file == "converted.safetensors" && !File.Exists(path))
        {
            using var source = EfficientNet.B0(new ApplicationOptions());
            KerasFile.Read(Path.Combine(dir, "keras", "legacy-weights.h5")).LoadInto(source);
            ModelFile.Save(source, path);
        }
        using var zoo = EfficientNet.B0(new ApplicationOptions());
        zoo.LoadWeights(path);
        AssertPredictsAsTensorFlowJs(zoo, "efficientnet-b0");
    }

    [ReferenceFact(ExternalReference.TensorFlowJs, ExternalReference.H5py)]
    public void LoadWeightsNamesTheFormatsItReadsForAnUnknownFile()
    {
        string path = Path.Combine(exports.Root, "picture.h5");
        File.WriteAllBytes(path, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]);
        using var zoo = MobileNetV2.Create(new ApplicationOptions { Alpha = 0.35, Resolution = 32 });
        var e = Assert.Throws<InvalidDataException>(() => zoo.LoadWeights(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a safetensors (NativeCnn model) file, an HDF5 file (Keras .h5), a .keras archive or a TensorFlow.js model.json", e.Message);
        Assert.Contains("89504E47", e.Message);
        File.WriteAllBytes(path, []);
        Assert.Throws<InvalidDataException>(() => zoo.LoadWeights(path));
    }

    [ReferenceFact(ExternalReference.TensorFlowJs, ExternalReference.H5py)]
    public void WeightsOfAnotherModelAreRefusedWithTheirNames()
    {
        using var zoo = EfficientNet.B0(new ApplicationOptions());
        var mobilenet = KerasFile.Read(Path.Combine(exports.Root, "mobilenet-head", "keras", "legacy-weights.h5"));
        var e = Assert.Throws<InvalidDataException>(() => mobilenet.LoadInto(zoo));
        Assert.Contains("layers with weights", e.Message);
        var keyed = KerasFile.Read(Path.Combine(exports.Root, "mobilenet-head", "keras", "keras3.weights.h5"));
        e = Assert.Throws<InvalidDataException>(() => keyed.LoadInto(zoo));
        Assert.Contains("matches no layer of efficientnetb0", e.Message);
    }

    [ReferenceFact(ExternalReference.TensorFlowJs, ExternalReference.H5py)]
    public void UnknownFilesAreRefusedWithTheirFirstBytes()
    {
        string path = Path.Combine(exports.Root, "not-a-model.bin");
        File.WriteAllBytes(path, [0xDE, 0xAD, 0xBE, 0xEF]);
        var e = Assert.Throws<InvalidDataException>(() => KerasFile.Read(path));
        Assert.Contains("DEADBEEF", e.Message);
    }

    [ReferenceTheory(ExternalReference.TensorFlowJs, ExternalReference.H5py)]
    [InlineData("mobilenet-head", "keras/model.keras")]
    [InlineData("efficientnet-b0", "keras/legacy-weights.h5", "--arch", "efficientnet-b0")]
    [InlineData("mobilenet-head", "tfjs/model.json")]
    public void ConverterWritesAModelFileThatRebuildsAndPredictsAsTensorFlowJs(string model, string file, params string[] options)
    {
        string converted = Path.Combine(exports.Root, model, Path.GetFileName(file) + ".safetensors");
        var (exit, stdout, stderr) = CommandLineTool.WeightsConverter.Run([Path.Combine(exports.Root, model, file), "-o", converted, .. options]);
        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        output.WriteLine(stdout);
        Assert.Contains("parameters", stdout);
        Assert.Contains("reading", stderr);
        using var rebuilt = ModelFile.Load(converted);
        AssertPredictsAsTensorFlowJs(rebuilt, model);
    }

    [ReferenceFact(ExternalReference.TensorFlowJs, ExternalReference.H5py)]
    public void ConverterExplainsWhatAWeightsOnlyFileNeeds()
    {
        var (exit, _, stderr) = CommandLineTool.WeightsConverter.Run(
            [Path.Combine(exports.Root, "mobilenet-head", "keras", "keras3.weights.h5"), "-o", Path.Combine(exports.Root, "x.safetensors")]);
        Assert.Equal(2, exit);
        Assert.Contains("holds weights only (Keras 3 .weights.h5); name the architecture with --arch", stderr);
    }

    [ReferenceTheory(ExternalReference.TensorFlowJs, ExternalReference.H5py)]
    [InlineData("Conv2D", "conv2d")]
    [InlineData("DepthwiseConv2D", "depthwise_conv2d")]
    [InlineData("BatchNormalization", "batch_normalization")]
    [InlineData("ReLU", "re_lu")]
    [InlineData("GlobalAveragePooling2D", "global_average_pooling2d")]
    [InlineData("ZeroPadding2D", "zero_padding2d")]
    public void Keras3KeysUseKerasSnakeCase(string className, string key) => Assert.Equal(key, KerasFile.ToSnakeCase(className));

    private void AssertPredictsAsTensorFlowJs(Model model, string export) =>
        TensorFlowJsReference.AssertMatchesExport(model, Path.Combine(exports.Root, export), output);
}
