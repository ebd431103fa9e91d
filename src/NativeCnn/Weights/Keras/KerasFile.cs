using System.IO.Compression;
using System.Text;
using NativeCnn.Layers;
using NativeCnn.Layers.Config;
using NativeCnn.Models;
using NativeCnn.Weights.TensorFlowJs;

namespace NativeCnn.Weights.Keras;

/// <summary>
/// A model as Keras or TensorFlow.js saved it, whatever the format: Keras 2 HDF5 (<c>model.save('x.h5')</c> or
/// <c>save_weights</c>), Keras 3 <c>.keras</c> archives and <c>.weights.h5</c> files, and TensorFlow.js layers models
/// (<c>model.json</c> with weight shards). The format is recognized from the file's first bytes, not its name.
/// </summary>
public sealed class KerasFile
{
    private static ReadOnlySpan<byte> Hdf5Signature => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];

    private static ReadOnlySpan<byte> ZipSignature => [(byte)'P', (byte)'K', 3, 4];

    private KerasFile(string path, string format, string? modelConfigJson, IReadOnlyList<KerasWeightLayer> layers, bool namedByKeras3Key,
                      int? kerasMajorVersion)
    {
        KerasMajorVersion = kerasMajorVersion;
        Path = path;
        Format = format;
        ModelConfigJson = modelConfigJson;
        Layers = layers;
        _namedByKeras3Key = namedByKeras3Key;
    }

    private readonly bool _namedByKeras3Key;

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>What the file was recognized as, e.g. <c>Keras 2 HDF5 (model.save)</c>.</summary>
    public string Format { get; }

    /// <summary>The Keras model config JSON, or null for a weights-only file (then build the model in code).</summary>
    public string? ModelConfigJson { get; }

    /// <summary>
    /// The major version of the Keras that wrote the file, where the file says (an HDF5 file's <c>keras_version</c>, a
    /// <c>.keras</c> archive's <c>metadata.json</c>; 3 for Keras 3's <c>.weights.h5</c> layout, 2 for TensorFlow.js), else
    /// null (then the config's own form decides). It decides the meaning of <c>hard_sigmoid</c>.
    /// </summary>
    public int? KerasMajorVersion { get; }

    /// <summary>The file's layers with their weights, in file order.</summary>
    public IReadOnlyList<KerasWeightLayer> Layers { get; }

    /// <summary>Every weight in the file.</summary>
    public IEnumerable<WeightTensor> Weights => Layers.SelectMany(l => l.Weights);

    /// <summary>Reads a Keras or TensorFlow.js model file.</summary>
    /// <remarks>
    /// The file is treated as untrusted. The paths a TensorFlow.js <c>model.json</c> names (its weight shards) must
    /// resolve, symbolic links followed, inside the folder of <c>model.json</c>, or they are refused without being
    /// touched. Sizes are checked before anything is allocated or inflated for them: a <c>.keras</c> archive's
    /// <c>config.json</c> may hold at most 64 MiB and its <c>model.weights.h5</c> at most 100 times its compressed size
    /// (any ratio up to 16 MiB), both counted while inflating as well, since a zip header can lie; shards must hold what
    /// the manifest declares. Every refusal is an <see cref="InvalidDataException"/> (a corrupt or hostile file) or a
    /// <see cref="NotSupportedException"/> (a valid file this library does not handle) whose message starts with
    /// the file's path and names the member, weight or value concerned.
    /// </remarks>
    /// <exception cref="InvalidDataException">The file is of no known format, or corrupt; the message says where.</exception>
    /// <exception cref="NotSupportedException">The file uses a feature the readers do not handle; the message names it.</exception>
    public static KerasFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return UntrustedInput.NamingFile(path, () => ReadFormat(path));
    }

    private static KerasFile ReadFormat(string path)
    {
        Span<byte> head = stackalloc byte[8];
        int read;
        using (var stream = File.OpenRead(path)) read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..read];
        if (head.StartsWith(Hdf5Signature)) return FromH5(path, KerasH5WeightFile.Read(path), null, "HDF5", archiveVersion: null);
        if (head.StartsWith(ZipSignature)) return ReadKerasArchive(path);
        if (head.TrimStart(" \t\r\n"u8).StartsWith("{"u8))
        {
            var tfjs = TensorFlowJsLayersModel.Load(path);
            var layers = tfjs.Weights.GroupBy(w => w.LayerName)
                .Select(g => new KerasWeightLayer(g.Key, g.Key, g.ToArray())).ToArray();
            return new KerasFile(path, "TensorFlow.js layers model", tfjs.ModelConfigJson, layers, namedByKeras3Key: false, kerasMajorVersion: 2);
        }
        throw new InvalidDataException($"{path}: not a safetensors (NativeCnn model) file, an HDF5 file (Keras .h5), a .keras archive or a TensorFlow.js model.json (first bytes {Convert.ToHexString(head)}).");
    }

    private static KerasFile ReadKerasArchive(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var configEntry = zip.GetEntry("config.json") ?? throw new InvalidDataException($"{path}: a zip without config.json is not a .keras archive.");
        var weightsEntry = zip.GetEntry("model.weights.h5")
            ?? throw new NotSupportedException($"{path}: the .keras archive has no model.weights.h5 (npz or sharded weights are not supported).");
        string config;
        using (var bytes = UntrustedInput.ReadMember(path, configEntry, UntrustedInput.MaxJsonBytes))
            config = Encoding.UTF8.GetString(bytes.GetBuffer(), 0, (int)bytes.Length);
        int version = 3;
        if (zip.GetEntry("metadata.json") is { } metadataEntry)
        {
            using var metadata = UntrustedInput.ReadMember(path, metadataEntry, UntrustedInput.SmallMemberBytes);
            version = ArchiveKerasVersion(metadata) ?? 3;
        }
        using var weights = UntrustedInput.ReadMember(path, weightsEntry, WeightsMemberLimit(path, weightsEntry));
        return FromH5(path, KerasH5WeightFile.Read(weights), config, "Keras 3 .keras archive", version);
    }

    /// <summary>The major version in a <c>.keras</c> archive's <c>metadata.json</c> (<c>{"keras_version": "3.6.0", ...}</c>;
    /// tf.keras 2.13 to 2.15 write this format too); null when it says none.</summary>
    private static int? ArchiveKerasVersion(MemoryStream metadata)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(metadata.ToArray());
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                   && document.RootElement.TryGetProperty("keras_version", out var version)
                   && version.ValueKind == System.Text.Json.JsonValueKind.String
                ? KerasModelConfig.ParseMajorVersion(version.GetString())
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>What a weights member may inflate to: a sane ratio to its compressed bytes, which must lie in the archive.</summary>
    private static long WeightsMemberLimit(string path, ZipArchiveEntry entry)
    {
        long archive = new FileInfo(path).Length;
        if (entry.CompressedLength > archive)
            throw new InvalidDataException($"{path}: member '{entry.FullName}' declares {entry.CompressedLength} compressed bytes in a {archive}-byte archive.");
        long limit = Math.Max(UntrustedInput.SmallMemberBytes, entry.CompressedLength * UntrustedInput.MaxWeightsRatio);
        if (entry.Length > limit)
            throw new InvalidDataException($"{path}: member '{entry.FullName}' declares {entry.Length} bytes from {entry.CompressedLength} compressed, "
                + $"more than the {UntrustedInput.MaxWeightsRatio}:1 a weights file can inflate to (a zip bomb?).");
        if (entry.Length > Array.MaxLength)
            throw new NotSupportedException($"{path}: member '{entry.FullName}' declares {entry.Length} bytes; weights members above {Array.MaxLength} bytes are not supported.");
        return limit;
    }

    private static KerasFile FromH5(string path, KerasH5WeightFile h5, string? config, string format, int? archiveVersion)
    {
        string description = h5.Format == KerasH5Format.Keras3
            ? config is null ? "Keras 3 .weights.h5" : format
            : h5.ModelConfigJson is null ? "Keras 2 HDF5 (save_weights)" : "Keras 2 HDF5 (model.save)";
        // Keras 3 files before 3.6 store no layer names: their layers are known only by the key Keras gave them.
        bool keyed = h5.Format == KerasH5Format.Keras3 && h5.Layers.All(l => l.GroupPath.EndsWith("/" + l.Name, StringComparison.Ordinal));
        int? version = archiveVersion ?? KerasModelConfig.ParseMajorVersion(h5.KerasVersion) ?? (h5.Format == KerasH5Format.Keras3 ? 3 : null);
        return new KerasFile(path, description, config ?? h5.ModelConfigJson, h5.Layers, keyed, version);
    }

    /// <summary>Builds the model from the file's config and loads its weights.</summary>
    /// <remarks>
    /// Every weight a layer of the config declares is checked against the file's tensors before it is allocated (a
    /// config that declares a weight of a shape the file does not hold is refused at once, whatever its size), so the
    /// memory a load takes is bounded by what the file really holds; a load that fails releases every weight it
    /// allocated before the exception leaves. Errors name this file, the layer and the value.
    /// </remarks>
    /// <exception cref="InvalidDataException">The file has no model config (a weights-only file), the config is broken, or its weights do not fit.</exception>
    /// <exception cref="NotSupportedException">A layer class or argument of the config is not supported; the message names the layer.</exception>
    public Model BuildModel(int? inputHeight = null, int? inputWidth = null)
    {
        if (ModelConfigJson is null)
            throw new InvalidDataException($"{Path}: {Format} holds weights only, no model config; build the model in code and call LoadInto.");
        var model = UntrustedInput.NamingFile(Path, () =>
            KerasModelConfig.Build(ModelConfigJson, inputHeight, inputWidth, new FileWeightShapes(Path, Weights), KerasMajorVersion));
        try
        {
            LoadInto(model);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the file's weights into <paramref name="model"/>, checking every name and shape: by Keras weight name when
    /// the file's names are the model's; for Keras 3 files by layer name or, in files without names, by Keras 3's
    /// class-name keys computed from the model's layer order; otherwise layer by layer in order, as Keras's legacy loader.
    /// </summary>
    /// <exception cref="InvalidDataException">The weights do not fit the model; the message names them.</exception>
    public void LoadInto(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        UntrustedInput.NamingFile(Path, () => Assign(model));
    }

    private void Assign(Model model)
    {
        var withWeights = Layers.Where(l => l.Weights.Count > 0).ToArray();
        var modelLayers = model.Layers.ToDictionary(l => l.Name, StringComparer.Ordinal);
        if (_namedByKeras3Key || withWeights.Any(l => l.Weights[0].WeightName.All(char.IsAsciiDigit)))
        {
            // Keras 3: weights are vars/0, vars/1, ... of a layer found by name, or by key when names are absent.
            var keys = _namedByKeras3Key ? Keras3Keys(model) : modelLayers;
            var renamed = new List<WeightTensor>();
            foreach (var layer in withWeights)
            {
                if (!keys.TryGetValue(layer.Name, out var target))
                    throw new InvalidDataException($"{Path}: layer '{layer.Name}' ({layer.GroupPath}) matches no layer of {model.Name}.");
                if (target.Weights.Count != layer.Weights.Count)
                    throw new InvalidDataException($"{Path}: layer '{layer.Name}' has {layer.Weights.Count} weights, {model.Name}'s '{target.Name}' has {target.Weights.Count}.");
                for (int i = 0; i < layer.Weights.Count; i++) renamed.Add(layer.Weights[i] with { Name = target.Weights[i].FullName });
            }
            WeightAssignment.ByName(model, renamed);
            return;
        }
        var modelNames = model.Weights.Select(w => w.FullName).ToHashSet(StringComparer.Ordinal);
        bool namesMatch = withWeights.All(l => l.Weights.All(w => modelNames.Contains(w.Name) || HasAliasedWeights(w.LayerName)));
        if (namesMatch) WeightAssignment.ByName(model, Weights);
        else WeightAssignment.ByLayerOrder(model, withWeights.Select(l => l.Weights));

        // A layer whose class names a weight differently in other Keras versions: its file names are settled by ByName.
        bool HasAliasedWeights(string layerName) =>
            modelLayers.TryGetValue(layerName, out var layer)
            && layer.Weights.Any(w => KerasLayerRegistry.FileWeightAliases(layer, w.Name).Any());
    }

    /// <summary>Keras 3's <c>layers/&lt;key&gt;</c> for each layer: snake-cased class name, numbered from the second on.</summary>
    private static Dictionary<string, Layer> Keras3Keys(Model model)
    {
        var keys = new Dictionary<string, Layer>(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var layer in model.Layers)
        {
            string baseKey = ToSnakeCase(layer.ClassName);
            int seen = counts.GetValueOrDefault(baseKey);
            counts[baseKey] = seen + 1;
            keys[seen == 0 ? baseKey : $"{baseKey}_{seen}"] = layer;
        }
        return keys;
    }

    /// <summary>Keras's <c>to_snake_case</c>: <c>Conv2D</c> → <c>conv2d</c>, <c>BatchNormalization</c> → <c>batch_normalization</c>, <c>ReLU</c> → <c>re_lu</c>.</summary>
    internal static string ToSnakeCase(string name)
    {
        var text = new StringBuilder(name.Length + 8);
        foreach (char c in name) if (char.IsAsciiLetterOrDigit(c) || c == '_') text.Append(c);
        string s = text.ToString();
        // (.)([A-Z][a-z]+) -> \1_\2
        text.Clear();
        for (int i = 0; i < s.Length; i++)
        {
            if (i > 0 && char.IsAsciiLetterUpper(s[i]) && i + 1 < s.Length && char.IsAsciiLetterLower(s[i + 1])) text.Append('_');
            text.Append(s[i]);
        }
        s = text.ToString();
        // ([a-z])([A-Z]) -> \1_\2
        text.Clear();
        for (int i = 0; i < s.Length; i++)
        {
            if (i > 0 && char.IsAsciiLetterUpper(s[i]) && char.IsAsciiLetterLower(s[i - 1])) text.Append('_');
            text.Append(s[i]);
        }
        return text.ToString().ToLowerInvariant();
    }
}
