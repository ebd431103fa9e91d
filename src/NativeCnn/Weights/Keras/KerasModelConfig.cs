using System.Text.Json;
using NativeCnn.Layers;
using NativeCnn.Layers.Config;
using NativeCnn.Models;
using static NativeCnn.Layers.Config.KerasConfigReader;

namespace NativeCnn.Weights.Keras;

/// <summary>
/// Rebuilds a <see cref="Model"/> from a serialized Keras model config (<c>model.to_json()</c>, the <c>model_config</c>
/// attribute of a Keras 2 <c>.h5</c>, <c>config.json</c> of a <c>.keras</c> file, or a TensorFlow.js
/// <c>modelTopology</c>). Functional and Sequential models are supported, including a functional model nested as a
/// layer (its layers are inlined, keeping their names), with Keras 2 and Keras 3 <c>inbound_nodes</c> forms.
/// </summary>
/// <remarks>
/// Every argument that changes the computation is read and checked; an argument this library does not implement
/// (channels_first, grouped convolution, leaky ReLU, …) raises <see cref="NotSupportedException"/> naming the layer,
/// never a silently different model. Weights keep their seeded initial values until loaded.
/// </remarks>
public static class KerasModelConfig
{
    /// <summary>Builds the model described by <paramref name="configJson"/>.</summary>
    /// <param name="configJson">The config: <c>{"class_name": "Functional" | "Sequential" | "Model", "config": {...}}</c>,
    /// optionally wrapped as <c>{"model_config": ...}</c>.</param>
    /// <param name="inputHeight">Fixes the input height (overriding the stored one); null keeps the stored one, and an open height (<c>None</c>) stays open (<see cref="Models.Model.WithInputSize"/>).</param>
    /// <param name="inputWidth">Input width, likewise.</param>
    /// <remarks>
    /// The config is treated as untrusted: every value is checked for its JSON kind and range, a wrong one (a string
    /// for a number, a kernel size of 2^32, a negative filter count, a missing key) is an
    /// <see cref="InvalidDataException"/> naming the layer and the argument, and a layer's own refusal of its arguments
    /// or inputs comes out as one too, naming the layer. A failed build releases every weight it allocated. A config
    /// alone cannot be checked against weights; the file loaders (<see cref="KerasFile.BuildModel"/>,
    /// <see cref="ModelFile.Load"/>) check each declared weight against the file before allocating it.
    /// </remarks>
    /// <exception cref="InvalidDataException">The JSON is not a Keras model config, a value in it is of the wrong kind or out
    /// of range, a layer refuses its arguments or inputs, or a reference in it is broken.</exception>
    /// <exception cref="NotSupportedException">A layer class or argument is not supported; the message names the layer.</exception>
    public static Model Build(string configJson, int? inputHeight = null, int? inputWidth = null) =>
        Build(configJson, inputHeight, inputWidth, weights: null);

    /// <summary>
    /// As <see cref="Build(string, int?, int?)"/> for a model whose weights come from a file: every weight a layer
    /// declares is checked by <paramref name="weights"/> before it is allocated, and left to the file to fill.
    /// </summary>
    /// <remarks>The Keras major version that gives <c>hard_sigmoid</c> its meaning is <paramref name="kerasMajorVersion"/> (what the
    /// file says), else the config's <c>keras_version</c>, else what the config's form shows.</remarks>
    internal static Model Build(string configJson, int? inputHeight, int? inputWidth, IWeightSource? weights, int? kerasMajorVersion = null)
    {
        ArgumentNullException.ThrowIfNull(configJson);
        if (configJson.Length > UntrustedInput.MaxJsonBytes)
            throw new InvalidDataException($"The Keras model config has {configJson.Length} characters, more than the {UntrustedInput.MaxJsonBytes} accepted.");
        var context = new BuildContext(inputHeight, inputWidth, weights);
        try
        {
            using var document = ParseDocument(configJson);
            var root = document.RootElement;
            int? version = kerasMajorVersion ?? ParseMajorVersion(root);
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model_config", out var wrapped)) root = wrapped;
            context.KerasMajorVersion = version ?? ParseMajorVersion(root) ?? KerasMajorVersion(root);
            RefuseUnsupportedClasses(root);
            var (name, input, output) = BuildContainer(root, context, outerInput: null);
            try
            {
                return new Model(name, input, output);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{name}: {e.Message}", e);
            }
        }
        catch
        {
            context.ReleaseWeights();
            throw;
        }
    }

    /// <summary>
    /// Serializes <paramref name="model"/> as a Keras 2 functional model config (the form <c>model.to_json()</c> and
    /// TensorFlow.js write), which <see cref="Build(string, int?, int?)"/> reads back into the same graph. Only the arguments that define the
    /// computation are written; initializers, regularizers and training arguments are not.
    /// </summary>
    /// <exception cref="NotSupportedException">A layer type has no Keras config form.</exception>
    public static string ToJson(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            var arguments = new KerasConfigWriter(json);
            json.WriteStartObject();
            json.WriteString("class_name", "Functional");
            json.WriteStartObject("config");
            json.WriteString("name", model.Name);
            json.WriteStartArray("layers");
            foreach (var node in model.Nodes) WriteLayer(json, node, arguments);
            json.WriteEndArray();
            WriteReference(json, "input_layers", model.Input.Name);
            WriteReference(json, "output_layers", model.Output.Name);
            json.WriteEndObject();
            // The version decides what the reader takes hard_sigmoid to mean; a model with both meanings has no config.
            if (arguments.WritesKeras2HardSigmoid && arguments.WritesKeras3HardSigmoid)
                throw new NotSupportedException($"{model.Name}: the model uses both Keras 2's and Keras 3's hard_sigmoid, which no one Keras config can name.");
            json.WriteString("keras_version", arguments.WritesKeras3HardSigmoid ? "3.0.0" : "2.15.0");
            json.WriteString("backend", "tensorflow");
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// The major version of the Keras that wrote a config without a <c>keras_version</c>: 3 when its layers call in Keras 3's
    /// form (<c>inbound_nodes</c> of <c>{"args": ...}</c> objects, which no Keras 2 writes), else 2 (Keras 2 and TensorFlow.js).
    /// </summary>
    private static int KerasMajorVersion(JsonElement model)
    {
        if (model.ValueKind != JsonValueKind.Object || !model.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object
            || !config.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array) return 2;
        foreach (var layer in layers.EnumerateArray())
        {
            if (layer.ValueKind == JsonValueKind.Object && layer.TryGetProperty("inbound_nodes", out var nodes) && nodes.ValueKind == JsonValueKind.Array
                && nodes.GetArrayLength() > 0 && nodes[0].ValueKind == JsonValueKind.Object) return 3;
        }
        return 2;
    }

    /// <summary>The major version in a config's own <c>keras_version</c> (<c>"2.15.0"</c> → 2); null when absent or not a
    /// number (TensorFlow.js writes <c>"tfjs-layers 4.22.0"</c>, Keras 2 semantics: 2).</summary>
    private static int? ParseMajorVersion(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("keras_version", out var version) || version.ValueKind != JsonValueKind.String)
            return null;
        return ParseMajorVersion(version.GetString());
    }

    /// <summary>The major version of a Keras version string (<c>"3.6.0"</c> → 3, <c>"tfjs-layers 4.22.0"</c> → 2, null → null).</summary>
    internal static int? ParseMajorVersion(string? version)
    {
        if (string.IsNullOrEmpty(version)) return null;
        if (version.StartsWith("tfjs", StringComparison.Ordinal)) return 2;
        int end = 0;
        while (end < version.Length && end < 4 && char.IsAsciiDigit(version[end])) end++;
        return end > 0 ? int.Parse(version.AsSpan(0, end), System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    private static void WriteReference(Utf8JsonWriter json, string property, string layerName)
    {
        json.WriteStartArray(property);
        json.WriteStartArray();
        json.WriteStringValue(layerName);
        json.WriteNumberValue(0);
        json.WriteNumberValue(0);
        json.WriteEndArray();
        json.WriteEndArray();
    }

    private static void WriteLayer(Utf8JsonWriter json, Node node, KerasConfigWriter arguments)
    {
        var layer = node.Layer;
        json.WriteStartObject();
        json.WriteString("class_name", layer.ClassName);
        json.WriteString("name", layer.Name);
        json.WriteStartObject("config");
        json.WriteString("name", layer.Name);
        json.WriteBoolean("trainable", layer.Trainable);
        WriteArguments(json, layer, arguments);
        json.WriteEndObject();
        json.WriteStartArray("inbound_nodes");
        if (node.Inputs.Count > 0)
        {
            json.WriteStartArray();
            foreach (var input in node.Inputs)
            {
                json.WriteStartArray();
                json.WriteStringValue(input.Name);
                json.WriteNumberValue(0);
                json.WriteNumberValue(0);
                json.WriteStartObject();
                json.WriteEndObject();
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteArguments(Utf8JsonWriter json, Layer layer, KerasConfigWriter arguments)
    {
        if (layer is InputLayer input)
        {
            json.WriteStartArray("batch_input_shape");
            json.WriteNullValue();
            for (int d = 1; d < input.Shape.Rank; d++)
            {
                if ((d == 1 && input.HeightIsOpen) || (d == 2 && input.WidthIsOpen)) json.WriteNullValue();
                else json.WriteNumberValue(input.Shape[d]);
            }
            json.WriteEndArray();
            json.WriteString("dtype", "float32");
            return;
        }
        KerasLayerRegistry.Write(layer, arguments);
    }

    private static JsonDocument ParseDocument(string json)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The Keras model config is not valid JSON: {e.Message}", e);
        }
    }

    private sealed class BuildContext(int? inputHeight, int? inputWidth, IWeightSource? weights)
    {
        public int? InputHeight { get; } = inputHeight;
        public int? InputWidth { get; } = inputWidth;
        public IWeightSource? Weights { get; } = weights;
        public int KerasMajorVersion { get; set; } = 2;
        public HashSet<string> LayerNames { get; } = new(StringComparer.Ordinal);

        /// <summary>Every layer created so far, so that a failed build can release their weights.</summary>
        public List<Layer> Layers { get; } = [];

        public void ReleaseWeights()
        {
            foreach (var layer in Layers)
            {
                foreach (var weight in layer.Weights) weight.Value.Dispose();
            }
        }
    }

    /// <summary>Builds a Functional or Sequential container; when nested, <paramref name="outerInput"/> replaces its input layer.</summary>
    private static (string Name, Node Input, Node Output) BuildContainer(JsonElement model, BuildContext context, Node? outerInput)
    {
        string className = RequiredString(model, "class_name", "model config");
        var config = Required(model, "config", className);
        string name = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
            ? n.GetString()!
            : "model";
        return className switch
        {
            "Functional" or "Model" => BuildFunctional(name, config, context, outerInput),
            "Sequential" => BuildSequential(name, config, context, outerInput),
            _ => throw new NotSupportedException($"Model class '{Shorten(className)}' is not supported (Functional, Model or Sequential)."),
        };
    }

    private static (string, Node, Node) BuildFunctional(string name, JsonElement config, BuildContext context, Node? outerInput)
    {
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        var inputNames = LayerReferences(Required(config, "input_layers", name), name, "input_layers");
        var outputNames = LayerReferences(Required(config, "output_layers", name), name, "output_layers");
        if (inputNames.Count != 1 || outputNames.Count != 1)
            throw new NotSupportedException($"{name}: only single-input single-output models are supported, got {inputNames.Count} inputs and {outputNames.Count} outputs.");

        int index = 0;
        foreach (var layer in RequiredArray(config, "layers", name).EnumerateArray())
        {
            string where = LayerLabel(name, index++, layer);
            string className = RequiredString(layer, "class_name", where);
            var layerConfig = RequiredObject(layer, "config", where);
            string layerName = LayerName(layer, layerConfig, className);
            if (className == "InputLayer")
            {
                nodes[layerName] = outerInput ?? CreateInput(layerName, layerConfig, context);
                continue;
            }
            var inbound = InboundLayers(layer, layerName);
            var inputs = new Node[inbound.Count];
            for (int i = 0; i < inputs.Length; i++)
                inputs[i] = nodes.TryGetValue(inbound[i], out var node)
                    ? node
                    : throw new InvalidDataException($"{layerName}: inbound layer '{Shorten(inbound[i])}' is not defined before it.");
            nodes[layerName] = CallLayer(className, layer, layerName, layerConfig, inputs, context);
        }
        Node Lookup(string n) => nodes.TryGetValue(n, out var node) ? node : throw new InvalidDataException($"{name}: no layer named '{Shorten(n)}'.");
        return (name, Lookup(inputNames[0]), Lookup(outputNames[0]));
    }

    private static (string, Node, Node) BuildSequential(string name, JsonElement config, BuildContext context, Node? outerInput)
    {
        // Keras 2 writes the layer list as config.layers; very old files write config itself as the list.
        var layers = config.ValueKind == JsonValueKind.Array ? config : RequiredArray(config, "layers", name);
        Node? input = outerInput, current = outerInput;
        int index = 0;
        foreach (var layer in layers.EnumerateArray())
        {
            string where = LayerLabel(name, index++, layer);
            string className = RequiredString(layer, "class_name", where);
            var layerConfig = RequiredObject(layer, "config", where);
            string layerName = LayerName(layer, layerConfig, className);
            if (className == "InputLayer")
            {
                input ??= CreateInput(layerName, layerConfig, context);
                current ??= input;
                continue;
            }
            if (current is null && className is "Functional" or "Model" or "Sequential")
            {
                // A nested model first in line brings its own input.
                (_, input, current) = BuildNested(layer, layerName, className, layerConfig, context, outerInput: null);
                continue;
            }
            if (current is null)
            {
                // The first layer carries the input shape (Keras 2's batch_input_shape).
                input = CreateInput($"{layerName}_input", layerConfig, context);
                current = input;
            }
            current = CallLayer(className, layer, layerName, layerConfig, [current], context);
        }
        if (input is null || current is null) throw new InvalidDataException($"{name}: a Sequential model with no layers.");
        return (name, input, current);
    }

    private static Node CreateInput(string name, JsonElement config, BuildContext context)
    {
        if (!TryGetShape(name, config, out var shape))
            throw new InvalidDataException($"{name}: no batch_input_shape or batch_shape, so the input size is unknown.");
        if (shape.Length != 4)
            throw new NotSupportedException($"{name}: only image inputs (batch, height, width, channels) are supported, got rank {shape.Length}.");
        // An open size (None) stays open unless the caller fixes it; the graph is built at the placeholder until a run
        // gives it a size (Model.WithInputSize).
        bool heightIsOpen = context.InputHeight is null && shape[1] is null;
        bool widthIsOpen = context.InputWidth is null && shape[2] is null;
        int height = context.InputHeight ?? shape[1] ?? InputLayer.OpenSizePlaceholder;
        int width = context.InputWidth ?? shape[2] ?? InputLayer.OpenSizePlaceholder;
        int channels = shape[3] ?? throw new InvalidDataException($"{name}: the input channel count is open (None).");
        context.LayerNames.Add(name);
        try
        {
            return new InputLayer(name, TensorShape.Nhwc(1, height, width, channels), heightIsOpen, widthIsOpen).Call();
        }
        catch (ArgumentException e)
        {
            throw LayerError(name, "InputLayer", e);
        }
    }

    /// <summary>The input shape, each dimension a positive integer or null (open); anything else is refused.</summary>
    private static bool TryGetShape(string name, JsonElement config, out int?[] shape)
    {
        foreach (string key in (ReadOnlySpan<string>)["batch_input_shape", "batch_shape"])
        {
            if (!config.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null) continue;
            if (value.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{name} (InputLayer): '{key}' is {Describe(value)}, not a list of dimensions.");
            shape = new int?[value.GetArrayLength()];
            int axis = 0;
            foreach (var d in value.EnumerateArray())
            {
                if (d.ValueKind == JsonValueKind.Null) shape[axis] = null;
                else if (TryInt(d, out int size) && size >= 1) shape[axis] = size;
                else throw new InvalidDataException($"{name} (InputLayer): '{key}'[{axis}] is {Describe(d)}, not a positive 32-bit integer or null.");
                axis++;
            }
            return true;
        }
        shape = [];
        return false;
    }

    /// <summary>Builds a nested model; Keras's <c>model.trainable = False</c> freezes every layer inside, whatever their own flags say.</summary>
    private static (string Name, Node Input, Node Output) BuildNested(JsonElement layer, string name, string className, JsonElement config,
                                                                     BuildContext context, Node? outerInput)
    {
        int first = context.Layers.Count;
        var nested = BuildContainer(layer, context, outerInput);
        if (!new KerasConfigReader(name, className, config, context.KerasMajorVersion).Bool("trainable", true))
            for (int i = first; i < context.Layers.Count; i++) context.Layers[i].Trainable = false;
        return nested;
    }

    private static Node CallLayer(string className, JsonElement layer, string name, JsonElement config, Node[] inputs, BuildContext context)
    {
        if (className is "Functional" or "Model" or "Sequential")
        {
            if (inputs.Length != 1) throw new NotSupportedException($"{name}: a nested model must have exactly one input.");
            return BuildNested(layer, name, className, config, context, inputs[0]).Output;
        }
        if (!context.LayerNames.Add(name))
            throw new NotSupportedException($"{name}: the layer is used more than once (shared layers are not supported).");
        try
        {
            var reader = new KerasConfigReader(name, className, config, context.KerasMajorVersion);
            var created = KerasLayerRegistry.Read(className, reader);
            created.Trainable = reader.Bool("trainable", true);
            context.Layers.Add(created);
            return context.Weights is { } weights ? created.Call(weights, inputs) : created.Call(inputs);
        }
        catch (Exception e) when (e is ArgumentException or OverflowException)
        {
            // A layer refusing its arguments or inputs (filters < 1, a window larger than its input, a shape too large).
            throw LayerError(name, className, e);
        }
    }

    private static InvalidDataException LayerError(string name, string className, Exception e)
    {
        string reason = e.Message;
        if (e is ArgumentException { ParamName: { } parameter }) reason = reason.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal);
        if (reason.StartsWith(name + ": ", StringComparison.Ordinal)) reason = reason[(name.Length + 2)..];
        return new InvalidDataException($"{name} ({className}): {reason}", e);
    }

    /// <summary>
    /// Lists every layer class of the config (nested models included) that cannot be built, in one error, before
    /// anything is built: a user porting a model learns at once all that is missing, not one class per attempt.
    /// </summary>
    private static void RefuseUnsupportedClasses(JsonElement root)
    {
        var missing = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var pending = new Stack<JsonElement>([root]);
        while (pending.Count > 0)
        {
            var container = pending.Pop();
            if (container.ValueKind != JsonValueKind.Object || !container.TryGetProperty("config", out var config)) continue;
            var layers = config.ValueKind == JsonValueKind.Array ? config
                : config.ValueKind == JsonValueKind.Object && config.TryGetProperty("layers", out var list) && list.ValueKind == JsonValueKind.Array ? list
                : default;
            if (layers.ValueKind != JsonValueKind.Array) continue;
            foreach (var layer in layers.EnumerateArray())
            {
                if (layer.ValueKind != JsonValueKind.Object || !layer.TryGetProperty("class_name", out var c) || c.ValueKind != JsonValueKind.String) continue;
                string className = c.GetString()!;
                if (className is "Functional" or "Model" or "Sequential") pending.Push(layer);
                else if (className != "InputLayer" && !KerasLayerRegistry.IsRegistered(className))
                {
                    string name = layer.TryGetProperty("config", out var lc) && lc.ValueKind == JsonValueKind.Object
                                  && lc.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "?";
                    if (!missing.TryGetValue(className, out var names)) missing[className] = names = [];
                    names.Add(name);
                }
            }
        }
        if (missing.Count == 0) return;
        if (missing.Count == 1 && missing.First().Value.Count == 1)
        {
            var (only, layerNames) = missing.First();
            throw new NotSupportedException($"{Shorten(layerNames[0])}: layer class '{Shorten(only)}' is not supported.");
        }
        throw new NotSupportedException($"{missing.Values.Sum(v => v.Count)} layers have classes that are not supported: "
            + string.Join("; ", missing.Take(20).Select(m => $"'{Shorten(m.Key)}' ({string.Join(", ", m.Value.Take(5).Select(Shorten))}{(m.Value.Count > 5 ? $", and {m.Value.Count - 5} more" : "")})"))
            + (missing.Count > 20 ? $"; and {missing.Count - 20} more classes." : "."));
    }

    /// <summary>A layer entry for messages before its config is read: <c>model layer 3 'conv'</c>, or without the name when it has none.</summary>
    private static string LayerLabel(string model, int index, JsonElement layer) =>
        layer.ValueKind == JsonValueKind.Object && layer.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
            ? $"{model} layer {index} '{Shorten(n.GetString()!)}'"
            : $"{model} layer {index}";

    private static string LayerName(JsonElement layer, JsonElement config, string className)
    {
        if (config.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String) return n.GetString()!;
        if (layer.TryGetProperty("name", out n) && n.ValueKind == JsonValueKind.String) return n.GetString()!;
        throw new InvalidDataException($"A {Shorten(className)} layer in the model config has no name (a string in 'config.name' or 'name').");
    }

    /// <summary>Names in <c>input_layers</c>/<c>output_layers</c>: <c>[["name", 0, 0], ...]</c> or a single <c>["name", 0, 0]</c>.</summary>
    private static List<string> LayerReferences(JsonElement references, string owner, string property)
    {
        if (references.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{owner}: '{property}' is {Describe(references)}, not a list of [\"layer\", node, tensor] references.");
        if (references.GetArrayLength() == 0) return [];
        if (references[0].ValueKind == JsonValueKind.String) return [references[0].GetString()!];
        var names = new List<string>();
        foreach (var reference in references.EnumerateArray())
        {
            if (reference.ValueKind != JsonValueKind.Array || reference.GetArrayLength() == 0 || reference[0].ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{owner}: '{property}' entry {Describe(reference)} is not a [\"layer\", node, tensor] reference.");
            names.Add(reference[0].GetString()!);
        }
        return names;
    }

    /// <summary>
    /// The layers feeding a layer's single call. Keras 2 / TF.js: <c>[[["name", node, tensor, {}], ...]]</c>; Keras 3:
    /// <c>[{"args": [tensor or [tensors]], "kwargs": {}}]</c> with tensors as <c>{"config": {"keras_history": ["name", node, tensor]}}</c>.
    /// </summary>
    private static List<string> InboundLayers(JsonElement layer, string layerName)
    {
        if (!layer.TryGetProperty("inbound_nodes", out var calls) || calls.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{layerName}: no inbound_nodes list.");
        if (calls.GetArrayLength() != 1)
            throw new NotSupportedException($"{layerName}: called {calls.GetArrayLength()} times; only layers called once are supported.");
        var call = calls[0];
        var names = new List<string>();
        if (call.ValueKind == JsonValueKind.Array)
        {
            foreach (var tensor in call.EnumerateArray())
            {
                if (tensor.ValueKind != JsonValueKind.Array || tensor.GetArrayLength() == 0 || tensor[0].ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{layerName}: inbound_nodes entry {Describe(tensor)} is not a [\"layer\", node, tensor, {{}}] reference.");
                names.Add(ReferencedLayer(tensor, layerName));
            }
        }
        else if (call.ValueKind == JsonValueKind.Object)
        {
            CollectKerasTensors(Required(call, "args", layerName), names, layerName);
        }
        else
        {
            throw new InvalidDataException($"{layerName}: inbound_nodes[0] is {Describe(call)}, not a list of references or a Keras 3 call object.");
        }
        if (names.Count == 0) throw new InvalidDataException($"{layerName}: inbound_nodes names no input.");
        return names;
    }

    private static void CollectKerasTensors(JsonElement value, List<string> names, string layerName)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in value.EnumerateArray()) CollectKerasTensors(item, names, layerName);
        }
        else if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("config", out var config)
                 && config.ValueKind == JsonValueKind.Object && config.TryGetProperty("keras_history", out var history))
        {
            if (history.ValueKind != JsonValueKind.Array || history.GetArrayLength() == 0 || history[0].ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{layerName}: keras_history is {Describe(history)}, not a [\"layer\", node, tensor] reference.");
            names.Add(ReferencedLayer(history, layerName));
        }
    }

    /// <summary>
    /// The layer name of a <c>["layer", node_index, tensor_index, ...]</c> reference. Every supported layer is called once
    /// and has one output, so both indices must be 0: any other value would silently read the wrong tensor.
    /// </summary>
    private static string ReferencedLayer(JsonElement reference, string layerName)
    {
        string name = reference[0].GetString()!;
        for (int i = 1; i <= 2 && i < reference.GetArrayLength(); i++)
        {
            var index = reference[i];
            if (index.ValueKind != JsonValueKind.Number || !index.TryGetInt64(out long value))
                throw new InvalidDataException($"{layerName}: the {(i == 1 ? "node" : "tensor")} index of its input '{name}' is {Describe(index)}, not an integer.");
            if (value != 0)
                throw new NotSupportedException($"{layerName}: its input '{name}' is {(i == 1 ? "node" : "tensor")} {value} of that layer; only layers called once with one output are supported.");
        }
        return name;
    }

    private static JsonElement Required(JsonElement obj, string property, string owner)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{Shorten(owner)}: expected an object with '{property}', got {Describe(obj)}.");
        return obj.TryGetProperty(property, out var value)
            ? value
            : throw new InvalidDataException($"{Shorten(owner)}: the model config has no '{property}'.");
    }

    private static JsonElement RequiredObject(JsonElement obj, string property, string owner) =>
        Required(obj, property, owner) is { ValueKind: JsonValueKind.Object } value
            ? value
            : throw new InvalidDataException($"{Shorten(owner)}: '{property}' is {Describe(Required(obj, property, owner))}, not an object.");

    private static JsonElement RequiredArray(JsonElement obj, string property, string owner) =>
        Required(obj, property, owner) is { ValueKind: JsonValueKind.Array } value
            ? value
            : throw new InvalidDataException($"{Shorten(owner)}: '{property}' is {Describe(Required(obj, property, owner))}, not a list.");

    private static string RequiredString(JsonElement obj, string property, string owner) =>
        Required(obj, property, owner) is { ValueKind: JsonValueKind.String } value
            ? value.GetString()!
            : throw new InvalidDataException($"{Shorten(owner)}: '{property}' is not a string.");
}
