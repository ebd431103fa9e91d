using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using NativeCnn.Tensors;
using NativeCnn.Weights.TensorFlowJs;

namespace NativeCnn.Tests.Weights;

/// <summary>TensorFlow.js layers-model loading: real tfjs output, quantized variants, hand-built edge cases and errors.</summary>
public sealed class TensorFlowJsLayersModelTests(TensorFlowJsFixture fixture) : IClassFixture<TensorFlowJsFixture>
{
    private static readonly string[] ExpectedNames =
    [
        // tfjs-layers saves trainable weights first, then the non-trainable moving statistics.
        "conv/kernel", "conv/bias", "bn/gamma", "bn/beta", "dw/depthwise_kernel", "dw/bias",
        "predictions/kernel", "predictions/bias", "bn/moving_mean", "bn/moving_variance",
    ];

    [ReferenceTheory(ExternalReference.TensorFlowJs)]
    [InlineData("float32")]
    [InlineData("uint8")]
    [InlineData("uint16")]
    [InlineData("float16")]
    public void LoadsWhatTensorFlowJsDecodes(string variant)
    {
        string dir = Path.Combine(fixture.Root, variant);
        var model = TensorFlowJsLayersModel.Load(Path.Combine(dir, "model.json"));
        Assert.Equal(ExpectedNames, model.Weights.Select(w => w.Name));
        foreach (var weight in model.Weights)
        {
            using var expected = NpyFile.Read(Path.Combine(dir, "expected", weight.Name.Replace("/", "__", StringComparison.Ordinal) + ".npy"));
            Assert.Equal(expected.Shape.ToArray(), weight.Shape);
            Precision.AssertClose(expected.Span, weight.Values, relative: 1e-7, scale: 1e-30, what: $"{variant} {weight.Name}");
        }
        Assert.Equal([3, 3, 3, 4], model.Weights[0].Shape);
        Assert.Equal([3, 3, 4, 1], model.Weights[4].Shape);
        Assert.All(model.Weights[5].Values, v => Assert.Equal(0.125f, v));
    }

    [ReferenceFact(ExternalReference.TensorFlowJs)]
    public void QuantizedValuesAreCloseToTheFloat32Originals()
    {
        var original = TensorFlowJsLayersModel.Load(Path.Combine(fixture.Root, "float32", "model.json")).Weights;
        foreach (var (variant, tolerance) in new[] { ("uint8", 0.5 / 255 * 2), ("uint16", 0.5 / 65535 * 2), ("float16", 1e-3) })
        {
            var quantized = TensorFlowJsLayersModel.Load(Path.Combine(fixture.Root, variant, "model.json")).Weights;
            for (int i = 0; i < original.Count; i++)
                Precision.AssertClose(original[i].Values, quantized[i].Values, relative: tolerance, scale: 1.5, what: $"{variant} {original[i].Name}");
        }
    }

    [ReferenceFact(ExternalReference.TensorFlowJs)]
    public void ExposesTheKerasModelConfigWhateverTheTopologyWrapping()
    {
        var saved = TensorFlowJsLayersModel.Load(Path.Combine(fixture.Root, "float32", "model.json"));
        var converted = TensorFlowJsLayersModel.Load(Path.Combine(fixture.Root, "uint8", "model.json"));
        Assert.Equal("layers-model", saved.Format);
        Assert.StartsWith("TensorFlow.js tfjs-layers v", saved.GeneratedBy);
        Assert.Null(saved.ConvertedBy);
        Assert.StartsWith("TensorFlow.js Converter v", converted.ConvertedBy);
        Assert.StartsWith("tfjs-layers ", saved.KerasVersion);
        Assert.Equal(saved.ModelConfigJson, converted.ModelConfigJson);
        using var config = JsonDocument.Parse(saved.ModelConfigJson);
        Assert.Equal("Model", config.RootElement.GetProperty("class_name").GetString());
        Assert.Equal("tiny", config.RootElement.GetProperty("config").GetProperty("name").GetString());
        var layers = config.RootElement.GetProperty("config").GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("class_name").GetString());
        Assert.Equal(["InputLayer", "Conv2D", "BatchNormalization", "DepthwiseConv2D", "GlobalAveragePooling2D", "Dense"], layers);
        Assert.Equal(2, config.RootElement.EnumerateObject().Count());
    }

    [ReferenceFact(ExternalReference.TensorFlowJs)]
    public void TheFloat32VariantHasWeightsStraddlingShards()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Root, "float32", "model.json")))!["weightsManifest"]![0]!;
        Assert.True(manifest["paths"]!.AsArray().Count >= 3);
        // 300-byte shards: conv/kernel covers bytes [0, 432) and dw/depthwise_kernel [480, 624).
        Assert.Equal(300, new FileInfo(Path.Combine(fixture.Root, "float32", manifest["paths"]![0]!.GetValue<string>())).Length);
    }

    /// <summary>A copy of the float32 variant with its model.json edited, in a fresh folder.</summary>
    private string CopyVariant(string variant, Action<JsonNode>? edit = null)
    {
        string source = Path.Combine(fixture.Root, variant);
        string target = Directory.CreateDirectory(Path.Combine(fixture.Root, $"case-{Guid.NewGuid():N}")).FullName;
        foreach (string file in Directory.EnumerateFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        if (edit is not null)
        {
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(target, "model.json")))!;
            edit(json);
            File.WriteAllText(Path.Combine(target, "model.json"), json.ToJsonString());
        }
        return Path.Combine(target, "model.json");
    }

    private static string LoadError(string modelJson) =>
        Assert.Throws<InvalidDataException>(() => TensorFlowJsLayersModel.Load(modelJson)).Message;

    [ReferenceFact(ExternalReference.TensorFlowJs)]
    public void NamesAMissingShard()
    {
        string path = CopyVariant("float32");
        File.Delete(Path.Combine(Path.GetDirectoryName(path)!, "group1-shard2of3.bin"));
        Assert.Contains("group1-shard2of3.bin' does not exist", LoadError(path));
    }

    [ReferenceFact(ExternalReference.TensorFlowJs)]
    public void NamesTheWeightAndShardWhenAShardIsShort()
    {
        string path = CopyVariant("float32");
        string last = Path.Combine(Path.GetDirectoryName(path)!, "group1-shard3of3.bin");
        File.WriteAllBytes(last, File.ReadAllBytes(last)[..^8]);
        string message = LoadError(path);
        Assert.Contains("weight 'bn/moving_variance'", message);
        Assert.Contains("group1-shard3of3.bin' is shorter than the manifest says", message);
    }

    [ReferenceFact(ExternalReference.TensorFlowJs)]
    public void RejectsShardsLongerThanTheManifest()
    {
        string path = CopyVariant("uint8");
        string last = Path.Combine(Path.GetDirectoryName(path)!, "group2-shard1of1.bin");
        File.AppendAllText(last, "x");
        Assert.Contains("the extra bytes start in shard", LoadError(path));
    }

    public static TheoryData<string, string> ManifestEdits() => new()
    {
        { "no-dtype", "weight 'dw/depthwise_kernel': unknown dtype" },
        { "dtype-string", "weight 'conv/kernel': dtype 'string' is not supported" },
        { "dtype-unknown", "weight 'conv/kernel': unknown dtype 'float64'" },
        { "quantization-unknown", "weight 'conv/kernel': unknown quantization" },
        { "quantization-no-scale", "weight 'conv/kernel': uint8 quantization without finite numeric 'scale' and 'min'" },
        { "quantization-huge-scale", "weight 'conv/kernel': uint16 quantization without finite" },
        { "shape-bigger", "weight 'bn/moving_variance' needs" },
        { "shape-smaller", "the extra bytes start in shard" },
        { "shape-negative", "weight 'conv/bias': shape[0] = -4" },
        { "duplicate", "weight 'conv/kernel' appears twice" },
        { "rooted-path", "is not a relative file name" },
        { "no-topology", "no 'modelTopology' object" },
        { "no-config", "holds no Keras model config" },
        { "no-manifest", "no 'weightsManifest' array" },
    };

    [ReferenceTheory(ExternalReference.TensorFlowJs)]
    [MemberData(nameof(ManifestEdits))]
    public void RejectsInconsistentManifestsNamingTheWeight(string edit, string message)
    {
        string path = CopyVariant("float32", json =>
        {
            var weights = json["weightsManifest"]![0]!["weights"]!.AsArray();
            switch (edit)
            {
                case "no-dtype": weights[4]!["dtype"] = null; break;
                case "dtype-string": weights[0]!["dtype"] = "string"; break;
                case "dtype-unknown": weights[0]!["dtype"] = "float64"; break;
                case "quantization-unknown": weights[0]!["quantization"] = new JsonObject { ["dtype"] = "int4" }; break;
                case "quantization-huge-scale": weights[0]!["quantization"] = JsonNode.Parse("""{"dtype": "uint16", "scale": 1e999, "min": 0}"""); break;
                case "quantization-no-scale": weights[0]!["quantization"] = new JsonObject { ["dtype"] = "uint8", ["min"] = 0 }; break;
                case "shape-bigger": weights[1]!["shape"] = new JsonArray(5); break;
                case "shape-smaller": weights[1]!["shape"] = new JsonArray(3); break;
                case "shape-negative": weights[1]!["shape"] = new JsonArray(-4); break;
                case "duplicate": weights[9]!["name"] = "conv/kernel"; break;
                case "rooted-path": json["weightsManifest"]![0]!["paths"]![0] = "/etc/passwd"; break;
                case "no-topology": json.AsObject().Remove("modelTopology"); break;
                case "no-config": json["modelTopology"]!.AsObject().Remove("class_name"); break;
                case "no-manifest": json.AsObject().Remove("weightsManifest"); break;
            }
        });
        Assert.Contains(message, LoadError(path));
    }

    [ReferenceFact(ExternalReference.TensorFlowJs)]
    public void SeededCorruptionOnlyEverRaisesInvalidDataException()
    {
        string path = CopyVariant("uint16");
        string dir = Path.GetDirectoryName(path)!;
        byte[] json = File.ReadAllBytes(path);
        string shard = Path.Combine(dir, "group1-shard2of4.bin");
        byte[] shardBytes = File.ReadAllBytes(shard);
        // The manifest part of model.json, where edits change names, shapes, dtypes and quantization.
        int manifestStart = System.Text.Encoding.UTF8.GetString(json).IndexOf("\"weightsManifest\"", StringComparison.Ordinal);
        var random = new Random(99);
        int rejected = 0, accepted = 0;
        for (int round = 0; round < 600; round++)
        {
            byte[] mutated = (byte[])json.Clone();
            int edits = 1 + random.Next(3);
            for (int e = 0; e < edits; e++)
            {
                int at = manifestStart + random.Next(json.Length - manifestStart);
                const string tokens = "0123456789-.,[]{}\":e8";
                mutated[at] = (byte)tokens[random.Next(tokens.Length)];
            }
            File.WriteAllBytes(path, mutated);
            Exercise($"model.json round {round}");
        }
        File.WriteAllBytes(path, json);
        for (int length = 0; length < shardBytes.Length; length += 7)
        {
            File.WriteAllBytes(shard, shardBytes[..length]);
            Exercise($"shard truncated to {length}");
        }
        Assert.True(rejected > 100 && accepted > 0, $"rejected {rejected}, accepted {accepted}");

        void Exercise(string what)
        {
            try
            {
                TensorFlowJsLayersModel.Load(path);
                accepted++;
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    [ReferenceFact(ExternalReference.TensorFlowJs)]
    public void DecodesInt32BoolAndStringModelConfigsAsTensorFlowJsDoes()
    {
        string dir = Directory.CreateDirectory(Path.Combine(fixture.Root, $"hand-{Guid.NewGuid():N}")).FullName;
        // int32 uint8-quantized with scale 0.5, min -2: q = 1, 3, 5, 7 → -1.5, -0.5, 0.5, 1.5 → Math.round → -1, 0, 1, 2.
        // Then int32 raw (-7, 123456789), bool (0, 1, 2→1), an empty float32 weight, and float16 specials.
        var bytes = new List<byte> { 1, 3, 5, 7 };
        var raw = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(raw, -7);
        BinaryPrimitives.WriteInt32LittleEndian(raw.AsSpan(4), 123456789);
        bytes.AddRange(raw);
        bytes.AddRange([0, 1, 2]);
        bytes.AddRange([0x01, 0x00, 0x00, 0x7C, 0xFF, 0xFB]);
        File.WriteAllBytes(Path.Combine(dir, "weights.bin"), [.. bytes]);
        File.WriteAllText(Path.Combine(dir, "model.json"), """
            {"modelTopology": {"keras_version": "2.15.0", "backend": "tensorflow",
               "model_config": "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": []}}"},
             "weightsManifest": [
               {"paths": [], "weights": []},
               {"paths": ["weights.bin"], "weights": [
                 {"name": "n/count", "shape": [4], "dtype": "int32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -2}},
                 {"name": "n/raw", "shape": [2], "dtype": "int32"},
                 {"name": "n/mask", "shape": [3], "dtype": "bool"},
                 {"name": "n/empty", "shape": [0, 4], "dtype": "float32"},
                 {"name": "n/half", "shape": [3], "dtype": "float32", "quantization": {"dtype": "float16"}}]}]}
            """);
        var model = TensorFlowJsLayersModel.Load(Path.Combine(dir, "model.json"));
        Assert.Equal("2.15.0", model.KerasVersion);
        Assert.Null(model.Format);
        Assert.Equal("""{"class_name":"Sequential","config":{"name":"s","layers":[]}}""", model.ModelConfigJson);
        Assert.Equal([-1f, 0f, 1f, 2f], model.Weights[0].Values);
        Assert.Equal([-7f, 123456789f], model.Weights[1].Values);
        Assert.Equal([0f, 1f, 1f], model.Weights[2].Values);
        Assert.Empty(model.Weights[3].Values);
        Assert.Equal([0, 4], model.Weights[3].Shape);
        Assert.Equal([MathF.Pow(2, -24), float.PositiveInfinity, -65504f], model.Weights[4].Values);
    }
}
