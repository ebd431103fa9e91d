using System.Text.Json.Nodes;
using NativeCnn.Models;
using NativeCnn.Weights;
using NativeCnn.Weights.Keras;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Weights;

/// <summary>
/// Hostile Keras configs inside real model files (issue 11, class 6): every value of the wrong JSON kind, out of range,
/// negative, null or missing must give an <see cref="InvalidDataException"/> or <see cref="NotSupportedException"/>
/// whose message starts with the file and names the layer and the argument, never a raw runtime exception.
/// </summary>
public sealed class KerasConfigHostileTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-config-hostile-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>The small model's config, as <see cref="KerasModelConfig.ToJson"/> writes it (Keras 2 functional form).</summary>
    private static JsonNode Config(Model model) => JsonNode.Parse(KerasModelConfig.ToJson(model))!;

    private static JsonObject Layer(JsonNode config, string name) =>
        config["config"]!["layers"]!.AsArray().Single(l => (string?)l!["name"] == name)!.AsObject();

    public static TheoryData<string, string[]> NamedExamples() => new()
    {
        { "kernel_size strings", ["conv (Conv2D)", "'kernel_size'", "[\"3\",\"3\"]"] },
        { "kernel_size 2^32", ["conv (Conv2D)", "'kernel_size'", "4294967296"] },
        { "kernel_size negative", ["conv (Conv2D)", "kernel/pool size must be at least 1"] },
        { "filters 2^31-1", ["conv", "(Conv2D)", "2147483647"] },
        { "filters 10^5", ["layer 'conv' (Conv2D) declares weight 'kernel' of shape (3, 3, 3, 100000)"] },
        { "filters zero", ["conv (Conv2D): filters must be at least 1, got 0."] },
        { "filters string", ["conv (Conv2D): argument 'filters' is the string \"4\", not a 32-bit integer"] },
        { "filters null", ["conv (Conv2D): missing argument 'filters'"] },
        { "filters missing", ["conv (Conv2D): missing argument 'filters'"] },
        { "padding object", ["conv (Conv2D): argument 'padding' is an object {}"] },
        { "activation number", ["conv (Conv2D): argument 'activation' is 5"] },
        { "data_format number", ["conv (Conv2D): argument 'data_format' is 3"] },
        { "inbound_nodes number", ["dw: inbound_nodes entry 5 is not a"] },
        { "inbound_nodes flat number", ["dw: inbound_nodes[0] is 5"] },
        { "inbound_nodes string", ["dw: no inbound_nodes list"] },
        { "keras_history number", ["dw: keras_history is a list [5,0,0], not a"] },
        { "inbound_nodes node index string", ["dw: the node index of its input 'relu' is the string \"0\", not an integer"] },
        { "batch_input_shape string", ["input_layer (InputLayer): 'batch_input_shape'[1] is the string \"8\""] },
        { "batch_input_shape number", ["input_layer (InputLayer): 'batch_input_shape' is 8, not a list"] },
        { "batch_input_shape zero channels", ["input_layer (InputLayer): 'batch_input_shape'[3] is 0, not a positive"] },
        { "units 2^31-1", ["dense", "(Dense)", "2147483647"] },
        { "units 2*10^7", ["layer 'dense' (Dense) declares weight 'kernel' of shape (100, 20000000)"] },
        { "units negative", ["dense (Dense): units must be at least 1, got -5."] },
        { "epsilon string", ["bn (BatchNormalization): argument 'epsilon' is the string \"0.001\", not a finite number"] },
        { "epsilon 1e999", ["bn (BatchNormalization): argument 'epsilon' is 1e999, not a finite number"] },
        { "rate huge", ["drop (Dropout): rate must be in [0, 1), got 1E+308."] },
        { "target_shape 2^32", ["reshape (Reshape): argument 'target_shape' is a list [4294967296]"] },
        { "zero padding negative", ["pad (ZeroPadding2D): padding must be non-negative"] },
        { "zero padding nested strings", ["pad (ZeroPadding2D): argument 'padding' is a list [[\"1\",1],[1,1]]"] },
        { "pool_size list of three", ["pool (MaxPooling2D): argument 'pool_size' is a list [2,2,2]"] },
        { "scale above float", ["rescale (Rescaling): argument 'scale' is 1e39, not a float32 number or a list of them"] },
        { "mean with a string", ["norm (Normalization): argument 'mean' is a list [\"a\"]"] },
        { "max_value string", ["relu (ReLU): argument 'max_value' is the string \"6\", not a finite number"] },
        { "layer name with slash", ["a/b (Conv2D): A layer name must be non-empty and must not contain '/'"] },
        { "layer config string", ["small layer 3 'conv': 'config' is the string \"x\", not an object"] },
        { "layers object", ["small: 'layers' is an object {}, not a list"] },
        { "input_layers number", ["small: 'input_layers' is 7, not a list"] },
        { "output_layers entry number", ["small: 'output_layers' entry 5 is not a"] },
        { "class_name number", ["model config: 'class_name' is not a string"] },
        { "layer class_name number", ["small layer 3 'conv': 'class_name' is not a string"] },
        { "layer entry number", ["small layer 3: expected an object with 'class_name', got 5"] },
        { "root array", ["model config: expected an object with 'class_name', got a list [1,2]"] },
        { "add of one input", ["add (Add): expected at least 2 inputs, got 1"] },
    };

    private static void Apply(string example, JsonNode config)
    {
        void Set(string layer, string argument, JsonNode? value) => Layer(config, layer)["config"]![argument] = value;
        switch (example)
        {
            case "kernel_size strings": Set("conv", "kernel_size", new JsonArray("3", "3")); break;
            case "kernel_size 2^32": Set("conv", "kernel_size", 4294967296L); break;
            case "kernel_size negative": Set("conv", "kernel_size", new JsonArray(-3, 3)); break;
            case "filters 2^31-1": Set("conv", "filters", int.MaxValue); break;
            case "filters 10^5": Set("conv", "filters", 100_000); break;
            case "filters zero": Set("conv", "filters", 0); break;
            case "filters string": Set("conv", "filters", "4"); break;
            case "filters null": Set("conv", "filters", null); break;
            case "filters missing": Layer(config, "conv")["config"]!.AsObject().Remove("filters"); break;
            case "padding object": Set("conv", "padding", new JsonObject()); break;
            case "activation number": Set("conv", "activation", 5); break;
            case "data_format number": Set("conv", "data_format", 3); break;
            case "inbound_nodes number": Layer(config, "dw")["inbound_nodes"] = JsonNode.Parse("[[5]]"); break;
            case "inbound_nodes node index string": Layer(config, "dw")["inbound_nodes"] = JsonNode.Parse("""[[["relu", "0", 0, {}]]]"""); break;
            case "inbound_nodes flat number": Layer(config, "dw")["inbound_nodes"] = JsonNode.Parse("[5]"); break;
            case "inbound_nodes string": Layer(config, "dw")["inbound_nodes"] = "relu"; break;
            case "keras_history number":
                Layer(config, "dw")["inbound_nodes"] = JsonNode.Parse("""[{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": [5, 0, 0]}}], "kwargs": {}}]""");
                break;
            case "batch_input_shape string": Set("input_layer", "batch_input_shape", JsonNode.Parse("""[null, "8", 8, 3]""")); break;
            case "batch_input_shape number": Set("input_layer", "batch_input_shape", 8); break;
            case "batch_input_shape zero channels": Set("input_layer", "batch_input_shape", JsonNode.Parse("[null, 8, 8, 0]")); break;
            case "units 2^31-1": Set("dense", "units", int.MaxValue); break;
            case "units 2*10^7": Set("dense", "units", 20_000_000); break;
            case "units negative": Set("dense", "units", -5); break;
            case "epsilon string": Set("bn", "epsilon", "0.001"); break;
            case "epsilon 1e999": Set("bn", "epsilon", JsonNode.Parse("1e999")); break;
            case "rate huge": Set("drop", "rate", 1e308); break;
            case "target_shape 2^32": Set("reshape", "target_shape", new JsonArray(4294967296L)); break;
            case "zero padding negative": Set("pad", "padding", -1); break;
            case "zero padding nested strings": Set("pad", "padding", JsonNode.Parse("""[["1", 1], [1, 1]]""")); break;
            case "pool_size list of three": Set("pool", "pool_size", new JsonArray(2, 2, 2)); break;
            case "scale above float": Set("rescale", "scale", JsonNode.Parse("1e39")); break;
            case "mean with a string": Set("norm", "mean", new JsonArray("a")); break;
            case "max_value string": Set("relu", "max_value", "6"); break;
            case "layer name with slash": Set("conv", "name", "a/b"); break;
            case "layer config string": Layer(config, "conv")["config"] = "x"; break;
            case "layers object": config["config"]!["layers"] = new JsonObject(); break;
            case "input_layers number": config["config"]!["input_layers"] = 7; break;
            case "output_layers entry number": config["config"]!["output_layers"] = JsonNode.Parse("[5]"); break;
            case "class_name number": config["class_name"] = 5; break;
            case "layer class_name number": Layer(config, "conv")["class_name"] = 5; break;
            case "layer entry number": config["config"]!["layers"]![3] = 5; break;
            case "root array": break; // replaced whole below
            case "add of one input": Layer(config, "add")["inbound_nodes"] = JsonNode.Parse("""[[["relu", 0, 0, {}]]]"""); break;
            default: throw new ArgumentException(example);
        }
    }

    [Theory]
    [MemberData(nameof(NamedExamples))]
    public void NamedHostileValuesAreRefusedNamingTheFileTheLayerAndTheArgument(string example, string[] expected)
    {
        using var model = HostileModelFiles.SmallModel();
        var config = Config(model);
        Apply(example, config);
        string json = example == "root array" ? "[1,2]" : config.ToJsonString();

        string file = Path.Combine(_work, "model.safetensors");
        HostileModelFiles.WriteModelFile(file, model, json);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(file, 8, 8));
        Assert.StartsWith(file + ": ", e.Message);
        foreach (string part in expected) Assert.Contains(part, e.Message);

        // Through TensorFlow.js, whose loader wants the topology to be an object: the root-array case is its own refusal.
        if (example is "root array" or "class_name number") return;
        string modelJson = HostileModelFiles.WriteTensorFlowJs(Path.Combine(_work, "tfjs"), model, json);
        e = Assert.Throws<InvalidDataException>(() => KerasFile.Read(modelJson).BuildModel(8, 8));
        Assert.StartsWith(modelJson + ": ", e.Message);
        foreach (string part in expected) Assert.Contains(part, e.Message);
    }

    [Theory]
    [InlineData("""[[["relu", 1099511627776, 0, {}]]]""", "dw: its input 'relu' is node 1099511627776 of that layer")]
    [InlineData("""[[["relu", 0, -1, {}]]]""", "dw: its input 'relu' is tensor -1 of that layer")]
    [InlineData("""[[["relu", 0, 1, {}]]]""", "dw: its input 'relu' is tensor 1 of that layer")]
    public void ReferencesToAnotherNodeOrTensorAreRefusedNotReadAsTheFirst(string inbound, string expected)
    {
        using var model = HostileModelFiles.SmallModel();
        var config = Config(model);
        Layer(config, "dw")["inbound_nodes"] = JsonNode.Parse(inbound);
        string file = Path.Combine(_work, "model.safetensors");
        HostileModelFiles.WriteModelFile(file, model, config.ToJsonString());
        var e = Assert.Throws<NotSupportedException>(() => ModelFile.Load(file, 8, 8));
        Assert.StartsWith(file + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void LayerArgumentRefusalsFromABareConfigNameTheLayer()
    {
        using var model = HostileModelFiles.SmallModel();
        var config = Config(model);
        Layer(config, "conv")["config"]!["filters"] = int.MaxValue;
        // No file to check against: the tensor's own size limit refuses it, named.
        var e = Assert.Throws<InvalidDataException>(() => KerasModelConfig.Build(config.ToJsonString()));
        Assert.StartsWith("conv (Conv2D): ", e.Message);
        Assert.Contains("2147483647", e.Message);
    }

    /// <summary>The values a hostile config puts where a sane one has something else.</summary>
    private static readonly Func<JsonNode?>[] HostileValues =
    [
        () => "3", () => new JsonArray("3", "3"), () => 3.5, () => 2147483647, () => 2147483648L, () => 4294967296L,
        () => -1, () => 0, () => -2147483648, () => 1e308, () => -1e300, () => JsonNode.Parse("1e39"), () => null,
        () => true, () => false, () => new JsonObject(), () => JsonNode.Parse("""{"config": {"name": 5}}"""), () => new JsonArray(),
        () => new JsonArray(1), () => new JsonArray(1, 2, 3), () => JsonNode.Parse("[[1, 2], [3]]"), () => "", () => "same",
        () => "channels_first", () => 9007199254740993L, () => new string('x', 300), () => JsonNode.Parse("[null, null, null, null]"),
        () => 65536, () => 100000,
    ];

    /// <summary>The small model as a Keras 3 <c>.keras</c> archive, written by h5py as Keras writes it; returns its bytes.</summary>
    private byte[] KerasArchive(Model model)
    {
        string folder = Directory.CreateDirectory(Path.Combine(_work, "keras-export")).FullName;
        File.WriteAllText(Path.Combine(folder, "model-config.json"), KerasModelConfig.ToJson(model));
        NpyWeightDirectory.Save(model, Path.Combine(folder, "weights"));
        string script = Path.Combine(TestPaths.RepositoryRoot, "tests", "reference", "h5", "write-keras-model.py");
        TestProcess.Run("/usr/bin/python3", [script, Path.Combine(folder, "model-config.json"), Path.Combine(folder, "weights"), Path.Combine(folder, "keras")], folder);
        return File.ReadAllBytes(Path.Combine(folder, "keras", "model.keras"));
    }

    /// <summary><paramref name="archive"/> with its <c>config.json</c> replaced by <paramref name="configJson"/>.</summary>
    private static void WriteWithConfig(byte[] archive, string configJson, string path)
    {
        using var source = new System.IO.Compression.ZipArchive(new MemoryStream(archive));
        using var target = new System.IO.Compression.ZipArchive(File.Create(path), System.IO.Compression.ZipArchiveMode.Create);
        foreach (var entry in source.Entries)
        {
            using var to = target.CreateEntry(entry.FullName, System.IO.Compression.CompressionLevel.NoCompression).Open();
            if (entry.FullName == "config.json") to.Write(System.Text.Encoding.UTF8.GetBytes(configJson));
            else
            {
                using var from = entry.Open();
                from.CopyTo(to);
            }
        }
    }

    [ReferenceTheory(ExternalReference.H5py)] // the .keras rows are written by h5py
    [InlineData("model file", 1)]
    [InlineData("TensorFlow.js", 2)]
    [InlineData(".keras", 3)]
    public void SeededConfigMutationsLoadOrAreRefusedNamingTheFile(string format, int seed)
    {
        using var model = HostileModelFiles.SmallModel();
        var original = Config(model);
        byte[]? archive = format == ".keras" ? KerasArchive(model) : null;
        var random = new Random(seed);
        int accepted = 0, rejected = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int round = 0; round < 300; round++)
        {
            var config = original.DeepClone();
            int edits = 1 + random.Next(3);
            var applied = new List<string>();
            for (int e = 0; e < edits; e++) applied.Add(Mutate(config, random));
            string json = config.ToJsonString();
            string directory = Path.Combine(_work, $"round-{round}");
            Directory.CreateDirectory(directory);
            string path = Path.Combine(directory, format switch { "model file" => "model.safetensors", ".keras" => "model.keras", _ => "model.json" });
            switch (format)
            {
                case "model file": HostileModelFiles.WriteModelFile(path, model, json); break;
                case ".keras": WriteWithConfig(archive!, json, path); break;
                default: HostileModelFiles.WriteTensorFlowJs(directory, model, json); break;
            }
            try
            {
                using var loaded = format == "model file" ? ModelFile.Load(path, 8, 8) : KerasFile.Read(path).BuildModel(8, 8);
                accepted++;
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException)
            {
                Assert.True(e.Message.StartsWith(path + ": ", StringComparison.Ordinal), $"round {round} ({string.Join("; ", applied)}): {e.Message}");
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"round {round} ({string.Join("; ", applied)}): {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
            Directory.Delete(directory, recursive: true);
        }
        output.WriteLine($"{format}: {accepted} loaded, {rejected} refused in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(accepted > 10 && rejected > 150, $"accepted {accepted}, rejected {rejected}");
    }

    /// <summary>One edit at a random place: a value replaced by a hostile one, a key removed, or a list item duplicated.</summary>
    private static string Mutate(JsonNode root, Random random)
    {
        var places = new List<(JsonNode Parent, string? Key, int Index)>();
        Collect(root, places);
        var (parent, key, index) = places[random.Next(places.Count)];
        string where = $"{parent.GetPath()}{(key is null ? $"[{index}]" : $".{key}")}";
        int kind = random.Next(10);
        if (kind == 0 && key is not null)
        {
            parent.AsObject().Remove(key);
            return $"removed {where}";
        }
        if (kind == 1 && key is null)
        {
            parent.AsArray().Insert(index, parent[index]?.DeepClone());
            return $"duplicated {where}";
        }
        var value = HostileValues[random.Next(HostileValues.Length)]();
        string text = value?.ToJsonString() ?? "null";
        if (key is not null) parent[key] = value;
        else parent[index] = value;
        return $"{where} = {(text.Length > 40 ? text[..40] + "..." : text)}";
    }

    private static void Collect(JsonNode node, List<(JsonNode, string?, int)> places)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, child) in obj.ToArray())
            {
                places.Add((node, key, -1));
                if (child is not null) Collect(child, places);
            }
        }
        else if (node is JsonArray array)
        {
            for (int i = 0; i < array.Count; i++)
            {
                places.Add((node, null, i));
                if (array[i] is { } child) Collect(child, places);
            }
        }
    }
}
