using System.Globalization;
using NativeCnn.Weights.Hdf5;

namespace NativeCnn.Weights.Keras;

/// <summary>
/// The weights in a Keras HDF5 file, read with the pure C# <see cref="Hdf5File"/>: legacy Keras 2 <c>.h5</c> files
/// (<c>save_weights</c> or <c>model.save</c>) and Keras 3 <c>.weights.h5</c> files.
/// </summary>
/// <remarks>
/// <para>
/// Legacy files list their layers in the <c>layer_names</c> attribute (split into <c>layer_names0</c>,
/// <c>layer_names1</c>, ... when large), in <c>model.layers</c> order, including layers without weights; each layer
/// group's <c>weight_names</c> attribute gives its weights in Keras order. Keras loads these by position, pairing the
/// layers that have weights with the model's layers that have weights.
/// </para>
/// <para>
/// Keras 3 files key layers by snake-cased class name (<c>conv2d</c>, <c>conv2d_1</c>, ...) and store no variable
/// names. Since the file does not record <c>model.layers</c> order, layers are listed by key in natural order (class
/// name, then numeric suffix, so <c>conv2d_2</c> precedes <c>conv2d_10</c>). Keras 3.6 and later store the layer
/// name in the <c>name</c> attribute of each <c>vars</c> group; older files are keyed only, and mapping their keys to
/// layers needs the model's layer order from its configuration. Nested models (a <c>layers</c> group inside a layer),
/// the model's own variables and optimizer state are not read, and bfloat16 variables are refused.
/// </para>
/// <para>
/// The file may be untrusted: the HDF5 reader bounds what it decodes (see <see cref="Hdf5File"/>), and a file whose
/// layout no Keras writer produces is refused with an <see cref="InvalidDataException"/> naming the layer: a layer listed
/// twice in <c>layer_names</c>, a weight listed twice in <c>weight_names</c>, a listed weight that is missing, or two
/// layers, <c>vars</c> groups or weights that are hard links to the same object.
/// </para>
/// </remarks>
public sealed class KerasH5WeightFile
{
    private KerasH5WeightFile(KerasH5Format format, IReadOnlyList<KerasWeightLayer> layers)
    {
        Format = format;
        Layers = layers;
    }

    /// <summary>The file's layout.</summary>
    public KerasH5Format Format { get; }

    /// <summary>The model configuration JSON of a legacy <c>model.save</c> file (<c>model_config</c>); null otherwise.</summary>
    public string? ModelConfigJson { get; private init; }

    /// <summary>The writer's Keras version (<c>keras_version</c>), or null when the file does not say (Keras 3 files).</summary>
    public string? KerasVersion { get; private init; }

    /// <summary>The writer's backend (<c>backend</c>, e.g. <c>tensorflow</c>), or null when the file does not say.</summary>
    public string? Backend { get; private init; }

    /// <summary>The layers, in file order (see the remarks), each with its weights in Keras order.</summary>
    public IReadOnlyList<KerasWeightLayer> Layers { get; }

    /// <summary>Reads the Keras weight file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is corrupt, not a Keras weight file, lays out its layers in a way no Keras writer does, or exceeds its decode budget (see the remarks); the message names the file, the object and the problem.</exception>
    /// <exception cref="NotSupportedException">The file uses an HDF5 feature or weight type this reader does not handle.</exception>
    public static KerasH5WeightFile Read(string path)
    {
        using var file = new Hdf5File(path);
        return Read(file);
    }

    /// <summary>Reads a Keras weight file from a readable, seekable stream, which is left open.</summary>
    /// <exception cref="InvalidDataException">The data is corrupt, not a Keras weight file, lays out its layers in a way no Keras writer does, or exceeds its decode budget (see the remarks); the message names the object and the problem.</exception>
    /// <exception cref="NotSupportedException">The file uses an HDF5 feature or weight type this reader does not handle.</exception>
    public static KerasH5WeightFile Read(Stream stream)
    {
        using var file = new Hdf5File(stream, leaveOpen: true);
        return Read(file);
    }

    /// <summary>Reads the Keras weights in an open HDF5 file.</summary>
    /// <exception cref="InvalidDataException">The file is corrupt, not a Keras weight file, lays out its layers in a way no Keras writer does, or exceeds its decode budget (see the remarks); the message names the file, the object and the problem.</exception>
    /// <exception cref="NotSupportedException">The file uses an HDF5 feature or weight type this reader does not handle.</exception>
    public static KerasH5WeightFile Read(Hdf5File file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var root = file.Root;
        if (ReadSplitStrings(root, "layer_names") is { } rootLayers)
            return ReadLegacy(file.Name, root, root, rootLayers);
        if (root.TryGetGroup("model_weights", out var modelWeights))
        {
            var layerNames = ReadSplitStrings(modelWeights, "layer_names")
                ?? throw new InvalidDataException($"{file.Name}: {modelWeights.Path}: the group has no layer_names attribute.");
            return ReadLegacy(file.Name, root, modelWeights, layerNames);
        }
        if (root.TryGetGroup("layers", out var layers) || root.TryGetGroup("_layer_checkpoint_dependencies", out layers))
            return ReadKeras3(file.Name, layers);
        throw new InvalidDataException($"{file.Name}: not a Keras weight file: no layer_names attribute, model_weights group or layers group at the root.");
    }

    private static KerasH5WeightFile ReadLegacy(string fileName, Hdf5Group root, Hdf5Group weights, string[] layerNames)
    {
        var layers = new List<KerasWeightLayer>(layerNames.Length);
        var layerGroups = new Dictionary<long, string>();
        var datasets = new Dictionary<long, string>();
        var seenLayers = new HashSet<string>(StringComparer.Ordinal);
        foreach (string layerName in layerNames)
        {
            // Keras writes each layer of the model once, in a group of its own (layer names are unique in a model).
            if (!seenLayers.Add(layerName))
                throw new InvalidDataException($"{fileName}: {weights.Path}: layer_names lists layer '{layerName}' more than once.");
            if (!weights.TryGetGroup(layerName, out var group) || group.Name != layerName)
                throw new InvalidDataException($"{fileName}: {weights.Path}: layer_names lists '{layerName}', but there is no such group.");
            CheckDistinct(fileName, layerGroups, group, $"the group of layer '{layerName}'");
            var weightNames = ReadSplitStrings(group, "weight_names")
                ?? throw new InvalidDataException($"{fileName}: {group.Path}: the layer group has no weight_names attribute.");
            var tensors = new List<WeightTensor>(weightNames.Length);
            var seenWeights = new HashSet<string>(StringComparer.Ordinal);
            foreach (string weightName in weightNames)
            {
                // h5py refuses to create a dataset twice, so a Keras writer cannot list one weight name twice.
                if (!seenWeights.Add(weightName))
                    throw new InvalidDataException($"{fileName}: {group.Path}: weight_names of layer '{layerName}' lists '{weightName}' more than once.");
                if (!group.TryGetDataset(weightName, out var dataset))
                    throw new InvalidDataException($"{fileName}: {group.Path}: weight_names of layer '{layerName}' lists '{weightName}', but there is no such dataset.");
                CheckDistinct(fileName, datasets, dataset, $"weight '{weightName}' of layer '{layerName}'");
                string name = weightName.EndsWith(":0", StringComparison.Ordinal) ? weightName[..^2] : weightName;
                tensors.Add(ReadTensor(fileName, dataset, name));
            }
            layers.Add(new KerasWeightLayer(layerName, group.Path, tensors));
        }
        return new KerasH5WeightFile(KerasH5Format.Legacy, layers)
        {
            ModelConfigJson = TryGetString(root, "model_config"),
            KerasVersion = TryGetString(root, "keras_version") ?? TryGetString(weights, "keras_version"),
            Backend = TryGetString(root, "backend") ?? TryGetString(weights, "backend"),
        };
    }

    private static KerasH5WeightFile ReadKeras3(string fileName, Hdf5Group layersGroup)
    {
        var keyed = new List<(string Key, KerasWeightLayer Layer)>();
        var groups = new Dictionary<long, string>();
        var datasets = new Dictionary<long, string>();
        foreach (var group in layersGroup.Groups)
        {
            CheckDistinct(fileName, groups, group, $"the group of layer key '{group.Name}'");
            if (!group.TryGetGroup("vars", out var vars)) continue; // a nested model keeps its layers one level down
            CheckDistinct(fileName, groups, vars, $"the vars group of layer key '{group.Name}'");
            string name = vars.HasAttribute("name") ? vars.GetStringAttribute("name") : group.Name;
            int count = vars.Datasets.Count;
            var tensors = new List<WeightTensor>(count);
            for (int i = 0; i < count; i++)
            {
                string index = i.ToString(CultureInfo.InvariantCulture);
                if (!vars.TryGetDataset(index, out var dataset))
                    throw new InvalidDataException($"{fileName}: {vars.Path}: {count} variables, but none named '{index}'.");
                CheckDistinct(fileName, datasets, dataset, $"variable {index} of layer '{name}'");
                if (dataset.HasAttribute("dtype") && dataset.GetStringAttribute("dtype") == "bfloat16")
                    throw new NotSupportedException($"{fileName}: {dataset.Path}: bfloat16 variables are not supported.");
                tensors.Add(ReadTensor(fileName, dataset, $"{name}/vars/{index}"));
            }
            keyed.Add((group.Name, new KerasWeightLayer(name, group.Path, tensors)));
        }
        keyed.Sort((a, b) => CompareKeys(a.Key, b.Key));
        return new KerasH5WeightFile(KerasH5Format.Keras3, keyed.ConvertAll(k => k.Layer));
    }

    /// <summary>
    /// Refuses a second path to an object already used: Keras creates a new group or dataset for every layer and weight,
    /// so hard links between them can only come from a hand-made file, which would make one object count as many layers
    /// or weights (and be decoded once for each).
    /// </summary>
    private static void CheckDistinct(string fileName, Dictionary<long, string> seen, Hdf5Object item, string what)
    {
        long address = item.Header.Address;
        if (!seen.TryAdd(address, item.Path))
            throw new InvalidDataException(
                $"{fileName}: {item.Path}: {what} is the same object (header at byte {address}) as {seen[address]}; a Keras file has one per layer or weight.");
    }

    private static WeightTensor ReadTensor(string fileName, Hdf5Dataset dataset, string name)
    {
        var shape = dataset.Shape;
        var dimensions = new int[shape.Length];
        for (int i = 0; i < shape.Length; i++)
            dimensions[i] = shape[i] <= int.MaxValue ? (int)shape[i] : throw new InvalidDataException($"{fileName}: {dataset.Path}: dimension {shape[i]} is too large for a weight.");
        return new WeightTensor(name, dimensions, dataset.ReadSingles());
    }

    /// <summary>
    /// Reads a string list attribute the way Keras's <c>load_attributes_from_hdf5_group</c> does: whole, or
    /// concatenated from <c>name0</c>, <c>name1</c>, ... when it was split; null when neither exists.
    /// </summary>
    private static string[]? ReadSplitStrings(Hdf5Group group, string name)
    {
        if (group.TryGetStringArrayAttribute(name, out var whole)) return whole;
        List<string>? parts = null;
        for (int i = 0; group.TryGetStringArrayAttribute(name + i.ToString(CultureInfo.InvariantCulture), out var part); i++)
            (parts ??= []).AddRange(part);
        return parts?.ToArray();
    }

    private static string? TryGetString(Hdf5Group group, string name) => group.HasAttribute(name) ? group.GetStringAttribute(name) : null;

    /// <summary>Orders Keras 3 keys by base name, then numeric suffix: conv2d, conv2d_1, conv2d_2, ..., conv2d_10.</summary>
    private static int CompareKeys(string a, string b)
    {
        var (baseA, indexA) = SplitKey(a);
        var (baseB, indexB) = SplitKey(b);
        int byBase = string.CompareOrdinal(baseA, baseB);
        return byBase != 0 ? byBase : indexA.CompareTo(indexB);
    }

    private static (string Base, long Index) SplitKey(string key)
    {
        int underscore = key.LastIndexOf('_');
        return underscore > 0 && long.TryParse(key.AsSpan(underscore + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long index)
            ? (key[..underscore], index)
            : (key, 0);
    }
}
