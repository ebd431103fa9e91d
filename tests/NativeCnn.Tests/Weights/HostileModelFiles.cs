using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Weights;

namespace NativeCnn.Tests.Weights;

/// <summary>Small real model files, written in C# for the hostile-file tests, and the zip surgery that makes them lie.</summary>
internal static class HostileModelFiles
{
    /// <summary>
    /// A small model with every layer class the config reader knows that takes arguments: rescaling, normalization,
    /// convolutions, BatchNormalization, ReLU, a residual add, padding, both poolings, a squeeze-and-excitation multiply,
    /// flatten, reshape, dropout and a dense head. Its weights are seeded noise.
    /// </summary>
    public static Model SmallModel()
    {
        var input = Node.Input(8, 8, 3, "input_layer");
        var x = new Rescaling("rescale", 1 / 255f, -0.5f).Call(input);
        x = new Normalization("norm").Call(x);
        x = new Conv2D("conv", filters: 4, kernelSize: (3, 3), strides: (1, 1), padding: Padding.Same, dilationRate: (1, 1),
                       useBias: true, activation: ActivationFunction.Relu).Call(x);
        x = new BatchNormalization("bn").Call(x);
        x = new ReLU("relu", 6f).Call(x);
        var y = new DepthwiseConv2D("dw", 3, padding: Padding.Same).Call(x);
        x = new Add("add").Call(x, y);
        x = new ZeroPadding2D("pad", new Padding2D(1, 1, 1, 1)).Call(x);
        x = new MaxPooling2D("pool", 2).Call(x);
        x = new AveragePooling2D("avg", 2, 1, Padding.Same).Call(x);
        var se = new GlobalAveragePooling2D("se_squeeze", keepDims: true).Call(x);
        se = new Conv2D("se_reduce", 4, 1, activation: ActivationFunction.Sigmoid).Call(se);
        x = new Multiply("se_excite").Call(x, se);
        x = new Activation("swish", ActivationFunction.Swish).Call(x);
        x = new Flatten("flat").Call(x);
        x = new Reshape("reshape", 100).Call(x);
        x = new Dropout("drop", 0.2).Call(x);
        x = new Dense("dense", 5, ActivationFunction.Softmax).Call(x);
        var model = new Model("small", input, x);
        int seed = 0;
        foreach (var weight in model.Weights) TestData.Uniform(++seed, weight.Value.Length, 0.5f, 1.5f).CopyTo(weight.Value.Span);
        return model;
    }

    /// <summary>Writes <paramref name="model"/>'s weights as a NativeCnn model file with <paramref name="configJson"/> as its config.</summary>
    public static void WriteModelFile(string path, Model model, string configJson) => ModelFile.Save(model, path, configJson);

    /// <summary>
    /// Writes a TensorFlow.js layers model: <c>model.json</c> with <paramref name="configJson"/> as its topology and one
    /// manifest group whose single shard <c>group1-shard1of1.bin</c> holds every weight of <paramref name="model"/>
    /// (or none, for a model of null); returns the path of <c>model.json</c>.
    /// </summary>
    public static string WriteTensorFlowJs(string directory, Model? model, string configJson, Action<JsonObject>? edit = null)
    {
        Directory.CreateDirectory(directory);
        var specs = new JsonArray();
        using (var shard = File.Create(Path.Combine(directory, "group1-shard1of1.bin")))
        {
            foreach (var weight in model?.Weights ?? [])
            {
                specs.Add(new JsonObject
                {
                    ["name"] = weight.FullName,
                    ["shape"] = new JsonArray(weight.Shape.ToArray().Select(d => (JsonNode)d).ToArray()),
                    ["dtype"] = "float32",
                });
                shard.Write(MemoryMarshal.AsBytes(weight.Value.Span));
            }
        }
        var json = new JsonObject
        {
            ["format"] = "layers-model",
            ["generatedBy"] = "NativeCnn tests",
            ["modelTopology"] = JsonNode.Parse(configJson),
            ["weightsManifest"] = new JsonArray(new JsonObject { ["paths"] = new JsonArray("group1-shard1of1.bin"), ["weights"] = specs }),
        };
        edit?.Invoke(json);
        string path = Path.Combine(directory, "model.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    /// <summary>A <c>.keras</c> zip: <c>config.json</c> and <c>model.weights.h5</c>, each written by its callback (deflated at the optimal level).</summary>
    public static byte[] KerasArchive(Action<Stream> config, Action<Stream> weights)
    {
        var zip = new MemoryStream();
        using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var stream = archive.CreateEntry("config.json", CompressionLevel.Optimal).Open()) config(stream);
            using (var stream = archive.CreateEntry("model.weights.h5", CompressionLevel.Optimal).Open()) weights(stream);
        }
        return zip.ToArray();
    }

    /// <summary>Writes <paramref name="count"/> copies of <paramref name="value"/> in 1 MiB writes, for members that inflate far.</summary>
    public static void WriteRepeated(Stream stream, byte value, long count)
    {
        var chunk = new byte[1 << 20];
        Array.Fill(chunk, value);
        for (long left = count; left > 0; left -= chunk.Length) stream.Write(chunk, 0, (int)Math.Min(left, chunk.Length));
    }

    /// <summary>
    /// Rewrites the sizes a zip's local header and central directory declare for <paramref name="member"/>, leaving its
    /// data as it is: the lie a hostile archive tells.
    /// </summary>
    public static void PatchDeclaredSizes(byte[] zip, string member, uint? uncompressed = null, uint? compressed = null)
    {
        int found = 0;
        for (int at = 0; at + 46 <= zip.Length; at++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(at)) != 0x02014b50) continue;
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 28));
            if (at + 46 + nameLength > zip.Length || System.Text.Encoding.UTF8.GetString(zip, at + 46, nameLength) != member) continue;
            int local = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(at + 42));
            Assert.Equal(0x04034b50u, BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(local)));
            if (uncompressed is { } u)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(at + 24), u);
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(local + 22), u);
            }
            if (compressed is { } c)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(at + 20), c);
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(local + 18), c);
            }
            found++;
        }
        Assert.Equal(1, found);
    }

    /// <summary>Collects and finalizes everything unreachable, so that native memory counts start from a settled state.</summary>
    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>The bytes of native memory held now (every tensor and kernel buffer of the process).</summary>
    public static long LiveNativeBytes => AlignedBuffer.LiveBytes;

    /// <summary>The bytes of native memory ever allocated by the process.</summary>
    public static long AllocatedNativeBytes => AlignedBuffer.AllocatedBytes;
}

/// <summary>
/// Tests that count the process's native memory: they run alone (after the parallel tests), so that no other test's
/// allocations or finalizers move the counts.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeMemoryCollection
{
    public const string Name = "Native memory counts";
}
