using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace NativeCnn.Layers.Config;

/// <summary>
/// The Keras layer classes this library builds and writes, by Keras class name: the one place the Keras loaders
/// (<c>KerasModelConfig</c>, and through it <c>KerasFile</c>, <c>ModelFile</c> and <c>TensorFlowJsLayersModel</c>)
/// look a class up. The supported classes are exactly its keys.
/// </summary>
/// <remarks>
/// <para>
/// Design. As in Keras, where each layer owns <c>get_config</c>/<c>from_config</c>, each built-in layer declares its
/// <see cref="KerasLayerEntry"/> in its own file, next to the constructor whose arguments it maps, so that adding a
/// layer is its file (layer, entry), its op and kernel, and one line in the list below. The entry reads and writes
/// through <see cref="KerasConfigReader"/> and <see cref="KerasConfigWriter"/>, which hold the JSON and its validation,
/// so layers see typed, checked arguments and never a file or a JSON type. The built-ins are listed here, explicitly,
/// rather than found by reflection or module initializers: the library is trimmable and AOT-compatible, and the list
/// is where a reader sees every class at once. The graph (containers, inputs, inbound nodes) stays in the model
/// config reader; an entry knows only its own layer.
/// </para>
/// <para>
/// Custom layers. <see cref="Register"/> adds a class, after which every loader builds it. A class is registered for
/// the whole process and cannot be replaced, since models would otherwise load differently depending on who
/// registered first. Lookups are thread-safe and may run while another thread registers.
/// </para>
/// </remarks>
public static class KerasLayerRegistry
{
    /// <summary>Class names the model config reader handles itself, as graph structure, not as layers.</summary>
    private static readonly string[] s_graphClasses = ["InputLayer", "Functional", "Model", "Sequential"];

    private static readonly ConcurrentDictionary<string, KerasLayerEntry> s_entries = new(
        new KerasLayerEntry[]
        {
            Conv2D.KerasEntry, DepthwiseConv2D.KerasEntry, BatchNormalization.KerasEntry, Activation.KerasEntry,
            ReLU.KerasEntry, Softmax.KerasEntry, Add.KerasEntry, Multiply.KerasEntry, ZeroPadding2D.KerasEntry,
            MaxPooling2D.KerasEntry, AveragePooling2D.KerasEntry, GlobalAveragePooling2D.KerasEntry,
            GlobalMaxPooling2D.KerasEntry, Dense.KerasEntry, Dropout.KerasEntry, Flatten.KerasEntry, Reshape.KerasEntry,
            Rescaling.KerasEntry, Normalization.KerasEntry, Concatenate.KerasEntry, Subtract.KerasEntry, Maximum.KerasEntry,
            Minimum.KerasEntry, Average.KerasEntry, UpSampling2D.KerasEntry, Cropping2D.KerasEntry, SeparableConv2D.KerasEntry,
            LeakyReLU.KerasEntry, ELU.KerasEntry, LayerNormalization.KerasEntry, Conv2DTranspose.KerasEntry,
            PReLU.KerasEntry, Permute.KerasEntry,
        }.Select(e => KeyValuePair.Create(e.ClassName, e)),
        StringComparer.Ordinal);

    /// <summary>The registered class names, sorted (ordinal).</summary>
    public static IReadOnlyList<string> ClassNames => [.. s_entries.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Adds a layer class, so that configs naming <see cref="KerasLayerEntry.ClassName"/> load (and, when the
    /// entry can write, models holding such layers save).</summary>
    /// <exception cref="ArgumentException">The class is already registered (built-in or custom), or its name is one of the
    /// graph classes (<c>InputLayer</c>, <c>Functional</c>, <c>Model</c>, <c>Sequential</c>).</exception>
    public static void Register(KerasLayerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (s_graphClasses.Contains(entry.ClassName, StringComparer.Ordinal))
            throw new ArgumentException($"'{entry.ClassName}' is model structure, read by the model config reader itself; it cannot be registered as a layer.", nameof(entry));
        if (!s_entries.TryAdd(entry.ClassName, entry))
            throw new ArgumentException($"Keras layer class '{entry.ClassName}' is already registered ({s_entries[entry.ClassName]}); a class cannot be registered twice.", nameof(entry));
    }

    /// <summary>Whether <paramref name="className"/> is registered.</summary>
    public static bool IsRegistered(string className) => s_entries.ContainsKey(className);

    /// <summary>The entry of <paramref name="className"/>, if registered.</summary>
    public static bool TryGet(string className, [NotNullWhen(true)] out KerasLayerEntry? entry) => s_entries.TryGetValue(className, out entry);

    /// <summary>Builds the layer of a config of class <paramref name="className"/>: checks its data format, then lets the entry read the rest.</summary>
    /// <exception cref="NotSupportedException">The class is not registered, or an argument value is not supported.</exception>
    internal static Layer Read(string className, KerasConfigReader config)
    {
        if (!s_entries.TryGetValue(className, out var entry))
            throw new NotSupportedException($"{config.LayerName}: layer class '{KerasConfigReader.Shorten(className)}' is not supported.");
        // Every layer here is channels-last, so a channels_first config is refused for every class, custom ones included.
        config.RequireChannelsLast();
        return entry.Read(config);
    }

    /// <summary>Writes <paramref name="layer"/>'s arguments with the entry of its <see cref="Layer.ClassName"/>.</summary>
    /// <exception cref="NotSupportedException">No entry can write the layer.</exception>
    internal static void Write(Layer layer, KerasConfigWriter config)
    {
        if (!s_entries.TryGetValue(layer.ClassName, out var entry) || !entry.TryWrite(layer, config))
            throw new NotSupportedException($"{layer.Name}: layer class '{layer.ClassName}' has no Keras config form here.");
    }

    /// <summary>The name <paramref name="layer"/> gives a weight a file calls <paramref name="fileWeightName"/>: its alias
    /// target when the layer's class has one (<see cref="KerasLayerEntry.WeightAliases"/>), else the name itself.</summary>
    internal static string LayerWeightName(Layer layer, string fileWeightName) =>
        s_entries.TryGetValue(layer.ClassName, out var entry) && entry.WeightAliases.TryGetValue(fileWeightName, out var name) ? name : fileWeightName;

    /// <summary>The other names a file may give <paramref name="layer"/>'s weight <paramref name="weightName"/>.</summary>
    internal static IEnumerable<string> FileWeightAliases(Layer layer, string weightName) =>
        s_entries.TryGetValue(layer.ClassName, out var entry)
            ? entry.WeightAliases.Where(a => a.Value == weightName).Select(a => a.Key)
            : [];
}
