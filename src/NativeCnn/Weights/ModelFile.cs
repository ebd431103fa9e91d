using NativeCnn.Models;
using NativeCnn.Weights.Keras;
using NativeCnn.Weights.SafeTensors;

namespace NativeCnn.Weights;

/// <summary>
/// NativeCnn's model file: one safetensors file whose tensors are the Keras weights by Keras name
/// (<c>block1a_dwconv/depthwise_kernel</c>, float32, Keras layout) and whose <c>__metadata__</c> holds the Keras model
/// config, so that the file alone rebuilds the model. Any safetensors file with Keras weight names also loads into a
/// model built in code (<see cref="LoadWeights"/>).
/// </summary>
public static class ModelFile
{
    /// <summary>Metadata key of the Keras model config JSON (<c>{"class_name": "Functional", "config": ...}</c>).</summary>
    public const string KerasConfigKey = "keras_config";

    /// <summary>Metadata key naming the file format and its version.</summary>
    public const string FormatKey = "format";

    /// <summary>The value of <see cref="FormatKey"/> this version writes.</summary>
    public const string FormatName = "nativecnn-keras/1";

    /// <summary>
    /// Writes every weight of <paramref name="model"/> in model order, with its config (<paramref name="kerasConfigJson"/>,
    /// e.g. the one a converted file carried, or else <see cref="KerasModelConfig.ToJson"/> of the model) and any
    /// extra <paramref name="metadata"/> (source file, converter).
    /// </summary>
    public static void Save(Model model, string path, string? kerasConfigJson = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var writer = new SafeTensorsWriter();
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>()) writer.Metadata[key] = value;
        writer.Metadata[FormatKey] = FormatName;
        writer.Metadata[KerasConfigKey] = kerasConfigJson ?? KerasModelConfig.ToJson(model);
        foreach (var weight in model.Weights)
        {
            var shape = weight.Shape.ToArray();
            writer.Add(weight.FullName, shape, weight.Value.ToArray());
        }
        writer.Save(path);
    }

    /// <summary>Rebuilds the model a file describes and loads its weights by name.</summary>
    /// <param name="path">A file written by <see cref="Save"/> or the weights converter.</param>
    /// <param name="inputHeight">Fixes the input height (overriding the stored one); null keeps the stored one, and an open height (<c>None</c>) stays open (<see cref="Models.Model.WithInputSize"/>).</param>
    /// <param name="inputWidth">Input width, likewise.</param>
    /// <remarks>
    /// The file is treated as untrusted. Its safetensors header is validated against the file's length before any
    /// tensor is read (see <see cref="SafeTensorsFile"/>), and every weight a layer of its config declares is checked
    /// against the header's tensors before it is allocated: a config declaring a weight of a shape the file does not
    /// hold is refused at once, so a load never allocates more than the file holds. A load that fails releases every
    /// weight it allocated before the exception leaves. Every refusal is an <see cref="InvalidDataException"/> or
    /// <see cref="NotSupportedException"/> whose message starts with <paramref name="path"/> and names the layer, the
    /// weight or the argument and its value. The file names no other path, so nothing outside it is read.
    /// </remarks>
    /// <exception cref="InvalidDataException">The file is not valid, has no model config, its config is broken, or its weights do not fit the config.</exception>
    /// <exception cref="NotSupportedException">A layer class or argument of the config is not supported; the message names the layer.</exception>
    public static Model Load(string path, int? inputHeight = null, int? inputWidth = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return UntrustedInput.NamingFile(path, () =>
        {
            using var file = new SafeTensorsFile(path);
            if (!file.Metadata.TryGetValue(KerasConfigKey, out string? config))
                throw new InvalidDataException($"{path}: no '{KerasConfigKey}' in the safetensors metadata, so the model cannot be rebuilt; build it in code and call LoadWeights.");
            var shapes = new FileWeightShapes(path, file.Names.Select(name => (name, file.GetInfo(name).Shape)));
            var model = KerasModelConfig.Build(config, inputHeight, inputWidth, shapes);
            try
            {
                WeightAssignment.ByName(model, ReadAll(file));
                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        });
    }

    /// <summary>
    /// Loads weights into a model built in code (e.g. <c>EfficientNet.B0()</c>) from any format this library reads,
    /// recognized by content, not by name: a NativeCnn / safetensors file, a Keras 2 <c>.h5</c> (<c>model.save</c> or
    /// <c>save_weights</c>), a Keras 3 <c>.keras</c> or <c>.weights.h5</c>, a TensorFlow.js <c>model.json</c>, or a folder of
    /// <c>.npy</c> files. Safetensors weights go by Keras name when the names match, otherwise layer by layer in file order
    /// as Keras's topological loader does; the Keras formats as <see cref="Keras.KerasFile.LoadInto"/>. Every shape is checked.
    /// </summary>
    /// <remarks>The file is validated as for <see cref="Load"/>; every refusal's message starts with <paramref name="path"/>.</remarks>
    /// <exception cref="InvalidDataException">The file is none of the formats (the message names them and the first bytes), is
    /// not valid, or its weights do not fit the model; the message names the weights.</exception>
    public static void LoadWeights(this Model model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            NpyWeightDirectory.Load(model, path);
            return;
        }
        if (IsSafeTensors(path)) UntrustedInput.NamingFile(path, () => Assign(model, path));
        else Keras.KerasFile.Read(path).LoadInto(model);
    }

    /// <summary>
    /// Whether the file starts as safetensors does: an 8-byte little-endian header length that fits the file, then '{'.
    /// Reads 9 bytes; the header itself is validated when the file is opened.
    /// </summary>
    private static bool IsSafeTensors(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> start = stackalloc byte[9];
        if (stream.ReadAtLeast(start, 9, throwOnEndOfStream: false) < 9) return false;
        ulong headerLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(start);
        return headerLength >= 2 && headerLength <= (ulong)stream.Length - 8 && start[8] == (byte)'{';
    }

    private static void Assign(Model model, string path)
    {
        using var file = new SafeTensorsFile(path);
        var weights = ReadAll(file);
        var modelNames = model.Weights.Select(w => w.FullName).ToHashSet(StringComparer.Ordinal);
        if (weights.Any(w => modelNames.Contains(w.Name)))
        {
            WeightAssignment.ByName(model, weights);
            return;
        }
        // No name in common: group consecutive tensors by their layer prefix and pair layers in order.
        var layers = new List<List<WeightTensor>>();
        foreach (var weight in weights)
        {
            if (layers.Count == 0 || layers[^1][0].LayerName != weight.LayerName) layers.Add([]);
            layers[^1].Add(weight);
        }
        WeightAssignment.ByLayerOrder(model, layers);
    }

    private static List<WeightTensor> ReadAll(SafeTensorsFile file) =>
        file.Names.Select(name => new WeightTensor(name, file.GetInfo(name).Shape, file.ReadSingles(name))).ToList();
}
