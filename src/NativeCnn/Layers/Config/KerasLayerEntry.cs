namespace NativeCnn.Layers.Config;

/// <summary>
/// Everything this library knows about one Keras layer class: its class name, how to build the layer from its Keras
/// config (<c>from_config</c>), how to write a layer's config (<c>get_config</c>), and the weight names the layer may
/// create, in Keras order. Built-in layers declare theirs beside their code; <see cref="KerasLayerRegistry"/> holds them.
/// </summary>
/// <remarks>
/// Write and read are inverses: what <c>write</c> writes for a layer, <c>read</c> builds back into a layer with the same
/// arguments. An entry without <c>write</c> can be loaded from configs but not saved to one.
/// </remarks>
public sealed class KerasLayerEntry
{
    private readonly Func<KerasConfigReader, Layer> _read;
    private readonly Func<Layer, KerasConfigWriter, bool>? _write;

    private KerasLayerEntry(string className, Type layerType, Func<KerasConfigReader, Layer> read,
                            Func<Layer, KerasConfigWriter, bool>? write, IReadOnlyList<string> weightNames,
                            IReadOnlyDictionary<string, string> weightAliases)
    {
        ClassName = className;
        LayerType = layerType;
        _read = read;
        _write = write;
        WeightNames = weightNames;
        WeightAliases = weightAliases;
    }

    /// <summary>The Keras class name (<c>class_name</c> in configs), e.g. <c>Conv2D</c>.</summary>
    public string ClassName { get; }

    /// <summary>The C# layer type the entry builds and writes.</summary>
    public Type LayerType { get; }

    /// <summary>Every weight name a layer of this class may create, in Keras order (<c>kernel</c>, <c>bias</c>); a
    /// layer's arguments may leave some out (<c>use_bias=False</c>).</summary>
    public IReadOnlyList<string> WeightNames { get; }

    /// <summary>Names other Keras versions give this class's weights in files, each mapped to the layer's own name (a Keras 3
    /// DepthwiseConv2D's <c>kernel</c> is <c>depthwise_kernel</c>); the weight loaders accept either.</summary>
    public IReadOnlyDictionary<string, string> WeightAliases { get; }

    /// <summary>Whether layers of this class can be written to a Keras config.</summary>
    public bool CanWrite => _write is not null;

    /// <summary>Creates an entry for layers of type <typeparamref name="TLayer"/>.</summary>
    /// <typeparam name="TLayer">The layer type; its <see cref="Layer.ClassName"/> must be <paramref name="className"/>
    /// for models holding it to be written (a custom layer whose C# name differs overrides <see cref="Layer.ClassName"/>).</typeparam>
    /// <param name="className">The Keras class name.</param>
    /// <param name="read">Builds the layer from its config; it must name the layer <see cref="KerasConfigReader.LayerName"/>
    /// and read every argument that changes the computation, refusing (<see cref="KerasConfigReader.Unsupported"/>) the
    /// values it does not implement. A layer constructor's <see cref="ArgumentException"/> is reported naming the layer.</param>
    /// <param name="write">Writes the layer's arguments, or null when the class is load-only.</param>
    /// <param name="weightNames">The weight names, as <see cref="WeightNames"/>; none when null.</param>
    /// <param name="weightAliases">File names for weights, as <see cref="WeightAliases"/>; none when null.</param>
    /// <exception cref="ArgumentException">The class name is empty, longer than 80 characters, or not a Keras identifier
    /// (letters, digits, '_', '.', '>'), or an alias names no weight of <paramref name="weightNames"/>.</exception>
    public static KerasLayerEntry Create<TLayer>(string className, Func<KerasConfigReader, TLayer> read,
                                                 Action<TLayer, KerasConfigWriter>? write, IReadOnlyList<string>? weightNames = null,
                                                 IReadOnlyDictionary<string, string>? weightAliases = null)
        where TLayer : Layer
    {
        ArgumentNullException.ThrowIfNull(className);
        ArgumentNullException.ThrowIfNull(read);
        // Keras class names are identifiers, registered ones with a package prefix ("Custom>MyLayer", "my_package.MyLayer").
        if (className.Length is 0 or > 80 || !className.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '>'))
            throw new ArgumentException($"A Keras class name must be 1 to 80 letters, digits, '_', '.' or '>', got '{KerasConfigReader.Shorten(className)}'.", nameof(className));
        weightNames ??= [];
        var aliases = new Dictionary<string, string>(weightAliases ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (alias, weight) in aliases)
        {
            if (!weightNames.Contains(weight))
                throw new ArgumentException($"{className}: weight alias '{alias}' names '{weight}', which is not one of its weights ({string.Join(", ", weightNames)}).", nameof(weightAliases));
        }
        Func<Layer, KerasConfigWriter, bool>? writeAny = write is null ? null : (layer, config) =>
        {
            if (layer is not TLayer typed) return false;
            write(typed, config);
            return true;
        };
        return new KerasLayerEntry(className, typeof(TLayer), config => read(config), writeAny, [.. weightNames], aliases);
    }

    /// <summary>Builds the layer of <paramref name="config"/>.</summary>
    /// <exception cref="InvalidOperationException">The entry built a layer not named as the config names it.</exception>
    internal Layer Read(KerasConfigReader config)
    {
        var layer = _read(config);
        if (layer is null || layer.Name != config.LayerName)
            throw new InvalidOperationException($"The Keras entry for '{ClassName}' built {(layer is null ? "no layer" : $"'{layer.Name}'")} from the config of '{config.LayerName}'; it must keep the config's name.");
        return layer;
    }

    /// <summary>Writes <paramref name="layer"/>'s arguments; false when this entry cannot write that layer.</summary>
    internal bool TryWrite(Layer layer, KerasConfigWriter config) => _write is not null && _write(layer, config);

    /// <inheritdoc/>
    public override string ToString() => $"{ClassName} ({LayerType.Name})";
}
