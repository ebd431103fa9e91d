using System.Buffers.Binary;
using System.Text.Json;

namespace NativeCnn.Weights.TensorFlowJs;

/// <summary>
/// A TensorFlow.js layers model (<c>model.json</c> plus binary weight shards), as written by the tfjs converter from
/// Keras or by tfjs-layers' own <c>model.save</c>. It exposes the Keras model config and every weight dequantized to
/// float32, in manifest order.
/// </summary>
/// <remarks>
/// Each <c>weightsManifest</c> group's shards are read as one concatenated byte stream, so a weight may straddle shard
/// files; each weight takes <c>elements × bytes(dtype)</c> bytes, where the dtype is the quantization dtype when there
/// is one. Supported: float32, int32 and bool weights; uint8/uint16 affine quantization (<c>q · scale + min</c> in
/// double, as tfjs's <c>decodeWeights</c>; int32 weights rounded as JavaScript's <c>Math.round</c>) and float16
/// quantization (decoded exactly). Not supported: string and complex64 weights. Every problem is an
/// <see cref="InvalidDataException"/> naming the file, the weight and the shard involved.
/// </remarks>
public sealed class TensorFlowJsLayersModel
{
    private TensorFlowJsLayersModel(string modelConfigJson, IReadOnlyList<WeightTensor> weights)
    {
        ModelConfigJson = modelConfigJson;
        Weights = weights;
    }

    /// <summary>The <c>format</c> field, normally <c>layers-model</c>; null when absent.</summary>
    public string? Format { get; private init; }

    /// <summary>The <c>generatedBy</c> field, e.g. <c>keras v2.15.0</c> or <c>TensorFlow.js tfjs-layers v4.22.0</c>.</summary>
    public string? GeneratedBy { get; private init; }

    /// <summary>The <c>convertedBy</c> field, e.g. <c>TensorFlow.js Converter v4.22.0</c>; null for a model saved by tfjs itself.</summary>
    public string? ConvertedBy { get; private init; }

    /// <summary>The <c>keras_version</c> recorded in the model topology, if any.</summary>
    public string? KerasVersion { get; private init; }

    /// <summary>
    /// The Keras model config as JSON: the object with <c>class_name</c> (<c>Functional</c>, <c>Model</c>,
    /// <c>Sequential</c>) and <c>config</c> (name, layers, inputs, outputs), whichever way the topology wrapped it.
    /// </summary>
    public string ModelConfigJson { get; }

    /// <summary>Every weight of every manifest group, in manifest order.</summary>
    public IReadOnlyList<WeightTensor> Weights { get; }

    /// <summary>Reads <paramref name="modelJsonPath"/> and all the weight shards it lists (paths relative to its folder).</summary>
    /// <remarks>
    /// The file is treated as untrusted. Each shard path must resolve, after normalising and following symbolic links,
    /// to a regular file inside the real path of the folder holding <paramref name="modelJsonPath"/>; a path that leaves
    /// it (<c>../</c>, an absolute path, a link to outside) is refused before anything outside is looked at, and the
    /// message tells nothing about the outside file. <c>model.json</c> may hold at most 64 MiB; every weight's size is
    /// computed from its manifest entry with overflow checks and compared with the shards' lengths before it is
    /// allocated. Every refusal is an <see cref="InvalidDataException"/> whose message starts with
    /// <paramref name="modelJsonPath"/> and names the manifest group, weight or shard.
    /// </remarks>
    /// <exception cref="InvalidDataException">The model JSON, the manifest or a shard is missing, malformed, inconsistent or outside the model's folder.</exception>
    public static TensorFlowJsLayersModel Load(string modelJsonPath)
    {
        ArgumentNullException.ThrowIfNull(modelJsonPath);
        var folder = new ModelFolder(modelJsonPath, Path.GetDirectoryName(Path.GetFullPath(modelJsonPath))!);
        long length = new FileInfo(modelJsonPath).Length;
        if (length > UntrustedInput.MaxJsonBytes)
            throw Error(modelJsonPath, $"the file has {length} bytes, more than the {UntrustedInput.MaxJsonBytes} a model.json may hold");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(modelJsonPath));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{modelJsonPath}: not valid JSON ({e.Message}).", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Error(modelJsonPath, "the top level is not a JSON object");
            if (!root.TryGetProperty("modelTopology", out var topology) || topology.ValueKind != JsonValueKind.Object)
                throw Error(modelJsonPath, "no 'modelTopology' object");
            var (config, kerasVersion) = ReadTopology(modelJsonPath, topology);
            if (!root.TryGetProperty("weightsManifest", out var manifest) || manifest.ValueKind != JsonValueKind.Array)
                throw Error(modelJsonPath, "no 'weightsManifest' array");
            return new TensorFlowJsLayersModel(config, ReadWeights(modelJsonPath, folder, manifest))
            {
                Format = OptionalString(root, "format"),
                GeneratedBy = OptionalString(root, "generatedBy"),
                ConvertedBy = OptionalString(root, "convertedBy"),
                KerasVersion = kerasVersion,
            };
        }
    }

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// The converter from h5 writes <c>{keras_version, backend, model_config, training_config}</c>; tfjs-layers' own
    /// save writes the config itself with <c>keras_version</c> and <c>backend</c> beside <c>class_name</c>/<c>config</c>.
    /// </summary>
    private static (string Config, string? KerasVersion) ReadTopology(string source, JsonElement topology)
    {
        string? kerasVersion = OptionalString(topology, "keras_version");
        if (topology.TryGetProperty("model_config", out var modelConfig))
        {
            // Keras stores model_config in h5 as a JSON string; the converter normally parses it, but not always.
            if (modelConfig.ValueKind == JsonValueKind.String)
            {
                using var inner = ParseNested(source, modelConfig.GetString()!);
                return (CheckedConfig(source, inner.RootElement), kerasVersion);
            }
            return (CheckedConfig(source, modelConfig), kerasVersion);
        }
        return (CheckedConfig(source, topology), kerasVersion);
    }

    private static JsonDocument ParseNested(string source, string json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: 'model_config' is a string that is not valid JSON ({e.Message}).", e);
        }
    }

    /// <summary>Keeps only <c>class_name</c> and <c>config</c>, the part a Keras model config consists of.</summary>
    private static string CheckedConfig(string source, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("class_name", out var className) || className.ValueKind != JsonValueKind.String
            || !element.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
            throw Error(source, "'modelTopology' holds no Keras model config (an object with 'class_name' and 'config')");
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("class_name", className.GetString());
            writer.WritePropertyName("config");
            config.WriteTo(writer);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private sealed record WeightSpec(string Name, int[] Shape, string DType, string? Quantization, double Scale, double Min, int Count, int ByteSize);

    private static List<WeightTensor> ReadWeights(string source, ModelFolder folder, JsonElement manifest)
    {
        var weights = new List<WeightTensor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int groupIndex = 0;
        foreach (var group in manifest.EnumerateArray())
        {
            groupIndex++;
            if (group.ValueKind != JsonValueKind.Object
                || !group.TryGetProperty("paths", out var paths) || paths.ValueKind != JsonValueKind.Array
                || !group.TryGetProperty("weights", out var specs) || specs.ValueKind != JsonValueKind.Array)
                throw Error(source, $"weightsManifest group {groupIndex} is not an object with 'paths' and 'weights' arrays");
            var files = new List<string>();
            foreach (var path in paths.EnumerateArray())
            {
                string what = $"group {groupIndex}: shard path {Shorten(path.GetRawText())}";
                if (path.ValueKind != JsonValueKind.String) throw Error(source, $"{what} is not a relative file name");
                files.Add(folder.ResolveFile(path.GetString()!, what));
            }
            using var shards = new ShardSequence(source, groupIndex, files);
            foreach (var specElement in specs.EnumerateArray())
            {
                var spec = ReadSpec(source, groupIndex, specElement);
                if (!names.Add(spec.Name)) throw Error(source, $"weight '{spec.Name}' appears twice in the manifest");
                var bytes = shards.Read(spec.Name, spec.ByteSize);
                weights.Add(new WeightTensor(spec.Name, spec.Shape, Decode(spec, bytes)));
            }
            shards.CheckFullyConsumed();
        }
        return weights;
    }

    private static WeightSpec ReadSpec(string source, int groupIndex, JsonElement element)
    {
        string? name = element.ValueKind == JsonValueKind.Object ? OptionalString(element, "name") : null;
        if (name is null) throw Error(source, $"group {groupIndex}: a weight entry has no 'name'");
        string? dtype = OptionalString(element, "dtype");
        if (!element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Error(source, $"weight '{name}': no 'shape' array");
        var shape = new int[shapeElement.GetArrayLength()];
        long count = 1;
        int axis = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out int value) || value < 0)
                throw Error(source, $"weight '{name}': shape[{axis}] = {dim.GetRawText()} is not a non-negative integer");
            shape[axis++] = value;
            // Saturates just above the largest array, so a lying shape cannot overflow; once zero it stays zero.
            count = Math.Min(count * value, (long)Array.MaxLength + 1);
        }
        if (count > Array.MaxLength) throw Error(source, $"weight '{name}': shape [{string.Join(", ", shape)}] is too large");

        int storedSize = dtype switch
        {
            "float32" or "int32" => 4,
            "bool" => 1,
            "string" or "complex64" => throw Error(source, $"weight '{name}': dtype '{dtype}' is not supported"),
            _ => throw Error(source, $"weight '{name}': unknown dtype '{dtype}'"),
        };
        string? quantization = null;
        double scale = 0, min = 0;
        if (element.TryGetProperty("quantization", out var q))
        {
            quantization = q.ValueKind == JsonValueKind.Object ? OptionalString(q, "dtype") : null;
            switch (quantization)
            {
                case "uint8" or "uint16":
                    if (dtype == "bool") throw Error(source, $"weight '{name}': a bool weight cannot be {quantization}-quantized");
                    if (!q.TryGetProperty("scale", out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetDouble(out scale) || !double.IsFinite(scale)
                        || !q.TryGetProperty("min", out var m) || m.ValueKind != JsonValueKind.Number || !m.TryGetDouble(out min) || !double.IsFinite(min))
                        throw Error(source, $"weight '{name}': {quantization} quantization without finite numeric 'scale' and 'min'");
                    storedSize = quantization == "uint8" ? 1 : 2;
                    break;
                case "float16":
                    if (dtype != "float32") throw Error(source, $"weight '{name}': float16 quantization of a {dtype} weight");
                    storedSize = 2;
                    break;
                default:
                    throw Error(source, $"weight '{name}': unknown quantization {q.GetRawText()}");
            }
        }
        if (count * storedSize > int.MaxValue) throw Error(source, $"weight '{name}': shape [{string.Join(", ", shape)}] is too large");
        return new WeightSpec(name, shape, dtype, quantization, scale, min, (int)count, (int)count * storedSize);
    }

    private static float[] Decode(WeightSpec spec, byte[] bytes)
    {
        var values = new float[spec.Count];
        switch (spec.Quantization)
        {
            case "uint8" or "uint16":
                bool wide = spec.Quantization == "uint16";
                for (int i = 0; i < values.Length; i++)
                {
                    int q = wide ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i)) : bytes[i];
                    double value = q * spec.Scale + spec.Min;
                    values[i] = spec.DType == "int32" ? (float)JavaScriptRound(value) : (float)value;
                }
                break;
            case "float16":
                for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan(2 * i));
                break;
            default:
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = spec.DType switch
                    {
                        "float32" => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i)),
                        "int32" => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i)),
                        _ => bytes[i] != 0 ? 1f : 0f,
                    };
                }
                break;
        }
        return values;
    }

    /// <summary>JavaScript's <c>Math.round</c> (tfjs rounds dequantized int32 weights with it): halves go up, toward +∞.</summary>
    private static double JavaScriptRound(double value)
    {
        // Not floor(value + 0.5), which rounds 0.49999999999999994 up because the sum rounds to 1.
        double floor = Math.Floor(value);
        return value - floor >= 0.5 ? floor + 1 : floor;
    }

    private static InvalidDataException Error(string source, string message) => new($"{source}: {message}.");

    private static string Shorten(string text) => text.Length <= 120 ? text : $"{text[..117]}...";

    /// <summary>The shard files of one manifest group, read as one concatenated byte stream.</summary>
    private sealed class ShardSequence : IDisposable
    {
        private readonly string _source;
        private readonly int _group;
        private readonly List<string> _files;
        private readonly long[] _lengths;
        private readonly long _total;
        private long _position;
        private int _current = -1;
        private FileStream? _stream;

        public ShardSequence(string source, int group, List<string> files)
        {
            _source = source;
            _group = group;
            _files = files;
            _lengths = new long[files.Count];
            // The files are real paths inside the model's folder (ModelFolder.ResolveFile), so measuring them reveals nothing outside.
            for (int i = 0; i < files.Count; i++)
            {
                _lengths[i] = new FileInfo(files[i]).Length;
                _total += _lengths[i];
            }
        }

        /// <summary>The next <paramref name="count"/> bytes, checked against the shard sizes before anything is allocated.</summary>
        public byte[] Read(string weight, int count)
        {
            if (count > _total - _position)
            {
                string last = _files.Count == 0 ? "(none)" : $"'{_files[^1]}'";
                throw Error(_source, $"weight '{weight}' needs {count} bytes at byte {_position} of group {_group}, but its shards hold only "
                    + $"{_total} bytes in all: shard {last} is shorter than the manifest says");
            }
            var buffer = new byte[count];
            int filled = 0;
            while (filled < count)
            {
                if (_stream is null || _stream.Position == _lengths[_current])
                {
                    _stream?.Dispose();
                    _stream = new FileStream(_files[++_current], FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
                    continue;
                }
                int read = _stream.Read(buffer, filled, count - filled);
                if (read == 0) throw Error(_source, $"weight '{weight}': shard '{_files[_current]}' ended early (did it change while being read?)");
                filled += read;
            }
            _position += count;
            return buffer;
        }

        /// <summary>Extra bytes mean the manifest and the shards disagree, so the weights cannot be trusted.</summary>
        public void CheckFullyConsumed()
        {
            if (_position == _total) return;
            long start = 0;
            int shard = 0;
            while (start + _lengths[shard] <= _position) start += _lengths[shard++];
            throw Error(_source, $"group {_group}: the manifest describes {_position} bytes, but the shards hold {_total}; "
                + $"the extra bytes start in shard '{_files[shard]}'");
        }

        public void Dispose() => _stream?.Dispose();
    }
}
