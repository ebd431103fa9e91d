using NativeCnn.Backends;
using NativeCnn.Layers;

namespace NativeCnn.Models;

/// <summary>
/// A graph of named layers from one input to one output (Keras's functional <c>Model</c>). Every layer, shape and weight
/// is visible; <see cref="CreatePlan"/> turns the graph into a runnable <see cref="ExecutionPlan"/> on a backend.
/// </summary>
/// <remarks>
/// Threading: <see cref="Predict"/> may be called from any number of threads at once; the calls take turns on the
/// model's one plan on <see cref="PredictDevice"/> (on the CPU, each call already uses every core), and every result is the one a lone call gives. Reading the
/// graph, layers and weights from several threads is safe while nobody changes the weights. An
/// <see cref="ExecutionPlan"/> runs one batch at a time: for concurrent runs, create one plan per thread.
/// <para>
/// Ownership, as in Keras: layers own their weights, and models built from the same layers share them (a new head on a
/// base model, <c>new Model(name, base.Input, head)</c>, or several sub-models of one graph). Disposing a model releases
/// the weights of a layer only when no other undisposed model holds that layer, so models can be disposed in any order.
/// </para>
/// </remarks>
public sealed class Model : IDisposable
{
    private readonly Dictionary<string, Layer> _layersByName = new(StringComparer.Ordinal);
    // Predict's plan and backend, created on first use; _predictGate serializes Predict, InvalidatePlans and Dispose.
    private readonly Lock _predictGate = new();
    private Device _predictDevice = Device.Cpu;
    private IBackend? _defaultBackend;
    private ExecutionPlan? _defaultPlan;
    // Predict's graph at another size than the built one, for an open input size; it shares this model's layers.
    private Model? _resized;
    private bool _disposed;

    /// <summary>Collects every node between <paramref name="input"/> and <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">The output does not depend on the input alone, or two layers share a name.</exception>
    public Model(string name, Node input, Node output)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        if (input.Layer is not InputLayer) throw new ArgumentException($"{name}: the model input must be an input node, got {input.Layer}.", nameof(input));
        Name = name;
        Input = input;
        Output = output;

        var reached = new HashSet<Node>();
        var stack = new Stack<Node>([output]);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (!reached.Add(node)) continue;
            if (node.Layer is InputLayer && node != input)
                throw new ArgumentException($"{name}: the output depends on input '{node.Name}', which is not the model input '{input.Name}'.", nameof(output));
            foreach (var parent in node.Inputs) stack.Push(parent);
        }
        if (!reached.Contains(input)) throw new ArgumentException($"{name}: the output does not depend on the input '{input.Name}'.", nameof(input));

        // Creation order is a topological order, and it is the order Keras lists layers in.
        Nodes = reached.OrderBy(n => n.Id).ToArray();
        foreach (var node in Nodes)
        {
            if (_layersByName.TryGetValue(node.Name, out var existing) && existing != node.Layer)
                throw new ArgumentException($"{name}: two different layers are named '{node.Name}'.", nameof(output));
            _layersByName[node.Name] = node.Layer;
        }
        Layers = Nodes.Select(n => n.Layer).Distinct().ToArray();
        foreach (var layer in Layers) layer.AddModel();
    }

    /// <summary>
    /// A feature extractor: the model from this model's input to <paramref name="layerName"/>'s output, sharing the layers
    /// and their weights (Keras's <c>Model(model.input, model.get_layer(name).output)</c>). Its plans run fused with buffer
    /// reuse and keep only what that output needs, where a plan made with <c>fuse: false</c> keeps every activation.
    /// Dispose it like any model; the layers' weights stay while another model holds them.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No layer has that name.</exception>
    public Model Features(string layerName)
    {
        ArgumentNullException.ThrowIfNull(layerName);
        var node = Nodes.FirstOrDefault(n => n.Name == layerName)
            ?? throw new KeyNotFoundException($"{Name}: no layer named '{layerName}'.");
        return new Model($"{Name}_{layerName}", Input, node);
    }

    /// <summary>
    /// A new model with a fresh classifier for <paramref name="classes"/> classes on this model's features, as the
    /// fine-tuning tutorials do (timm's new <c>Linear</c> head; Keras's <c>include_top=False</c> plus a new <c>Dense</c>):
    /// the last layer with weights (the old <c>Dense</c>, or the 1×1 <c>Conv2D</c> of MobileNet and MobileNetV3) and the
    /// weightless layers after it are dropped, and a <c>Dense(classes, activation)</c> named <paramref name="layerName"/>,
    /// Glorot-initialized as Keras does, goes on its input (flattened first when that is still a feature map, such as
    /// MobileNet's <c>1×1×C</c>). Every other layer is shared with this model, weights and <see cref="Layer.Trainable"/>
    /// flags included: freeze them for a head-only stage. Dispose the result like any model.
    /// </summary>
    /// <param name="classes">The number of classes of the new head.</param>
    /// <param name="activation">The head's activation; softmax when null (<see cref="ActivationFunction.Linear"/> for logits).</param>
    /// <param name="layerName">The head's layer name; Keras applications call it <c>predictions</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classes"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">The model has no layer with weights to replace, or the name is taken.</exception>
    public Model ReplaceClassifier(int classes, ActivationFunction? activation = null, string layerName = "predictions")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentNullException.ThrowIfNull(layerName);
        var classifier = Output;
        while (classifier.Layer.Weights.Count == 0)
        {
            if (classifier.Inputs.Count != 1)
                throw new InvalidOperationException($"{Name}: no classifier to replace: '{classifier.Name}' ({classifier.Layer.ClassName}) comes before any layer with weights.");
            classifier = classifier.Inputs[0];
        }
        if (classifier.Inputs.Count != 1)
            throw new InvalidOperationException($"{Name}: the last layer with weights, '{classifier.Name}', has {classifier.Inputs.Count} inputs; a classifier has one.");
        var features = classifier.Inputs[0];
        var kept = new Model(Name, Input, features);
        try
        {
            if (kept.Layers.Any(l => l.Name == layerName))
                throw new InvalidOperationException($"{Name}: a layer named '{layerName}' stays in the model; name the new head otherwise.");
            if (features.OutputShape.Rank != 2)
            {
                string flattenName = layerName + "_flatten";
                if (kept.Layers.Any(l => l.Name == flattenName))
                    throw new InvalidOperationException($"{Name}: a layer named '{flattenName}' stays in the model; name the new head otherwise.");
                features = new Flatten(flattenName).Call(features);
            }
            var head = new Dense(layerName, classes, activation ?? ActivationFunction.Softmax).Call(features);
            return new Model(Name, Input, head);
        }
        finally
        {
            kept.Dispose();
        }
    }

    /// <summary>
    /// The same graph and layers (sharing their weights) built for inputs of <paramref name="height"/> ×
    /// <paramref name="width"/>, as Keras runs a model whose input is <c>(None, None, None, 3)</c> at the size it is given.
    /// The input keeps its open dimensions, so the result can be resized again. Any model can be resized: a layer whose
    /// weights depend on the size (a <c>Dense</c> after <c>Flatten</c>, a <c>PReLU</c> with per-pixel slopes) refuses
    /// the new size with a <see cref="LayerException"/> naming it. Dispose the result like any model.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    /// <exception cref="ArgumentException">The model input is not NHWC.</exception>
    /// <exception cref="LayerException">A layer cannot take the new size (a window larger than its input, a size-bound weight).</exception>
    public Model WithInputSize(int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var inputLayer = (InputLayer)Input.Layer;
        var shape = inputLayer.Shape;
        if (shape.Rank != 4) throw new ArgumentException($"{Name}: only an NHWC input has a height and width, got {shape}.", nameof(height));
        var input = new InputLayer(inputLayer.Name, TensorShape.Nhwc(1, height, width, shape.Channels), inputLayer.HeightIsOpen, inputLayer.WidthIsOpen).Call();
        var replayed = new Dictionary<Node, Node> { [Input] = input };
        foreach (var node in Nodes)
        {
            if (node == Input) continue;
            var inputs = new Node[node.Inputs.Count];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = replayed[node.Inputs[i]];
            try
            {
                replayed[node] = node.Layer.Call(inputs);
            }
            catch (ArgumentException e)
            {
                throw new LayerException(node.Name, $"cannot run at input size {height}x{width}: {e.Message}");
            }
        }
        return new Model(Name, input, replayed[Output]);
    }

    /// <summary>Whether the input height or width is open (Keras <c>None</c>): <see cref="Predict"/> and
    /// <see cref="WithInputSize"/> take any size there; the graph is built at <see cref="InputLayer.Shape"/>.</summary>
    public bool InputSizeIsOpen => Input.Layer is InputLayer { SizeIsOpen: true };

    /// <summary>The Keras model name, e.g. <c>efficientnetb0</c>.</summary>
    public string Name { get; }

    /// <summary>The input node.</summary>
    public Node Input { get; }

    /// <summary>The output node.</summary>
    public Node Output { get; }

    /// <summary>All nodes in execution order, the input first.</summary>
    public IReadOnlyList<Node> Nodes { get; }

    /// <summary>All layers in execution order, the input layer first.</summary>
    public IReadOnlyList<Layer> Layers { get; }

    /// <summary>Every weight, in layer order and Keras order within a layer.</summary>
    public IEnumerable<LayerWeight> Weights => Layers.SelectMany(l => l.Weights);

    /// <summary>Total number of weight values (Keras's "Total params").</summary>
    public long ParameterCount => Layers.Sum(l => l.ParameterCount);

    /// <summary>Number of trainable weight values.</summary>
    public long TrainableParameterCount => Layers.Sum(l => l.TrainableParameterCount);

    /// <summary>Number of non-trainable weight values (BatchNormalization statistics, Normalization).</summary>
    public long NonTrainableParameterCount => ParameterCount - TrainableParameterCount;

    /// <summary>The layer named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No layer has that name.</exception>
    public Layer GetLayer(string name) =>
        _layersByName.TryGetValue(name, out var layer) ? layer : throw new KeyNotFoundException($"{Name}: no layer named '{name}'.");

    /// <summary>Builds a plan that runs the model on <paramref name="backend"/> for batches of <paramref name="batch"/>.</summary>
    /// <param name="backend">Where to run.</param>
    /// <param name="batch">Images per run.</param>
    /// <param name="fuse">Run convolution + BatchNormalization + activation (+ residual add) and squeeze-and-excitation blocks as
    /// single ops (faster; the outputs of the fused-away layers are then not kept). False keeps every layer's output.</param>
    /// <param name="imagesPerPass">Images each pass of <see cref="ExecutionPlan.Run()"/> computes, a divisor of
    /// <paramref name="batch"/> (CPU only); by default a fused plan on one CPU thread picks as many as keep a pass's
    /// activations in cache (see <see cref="ExecutionPlan.ImagesPerPass"/>), other plans the whole batch.</param>
    /// <exception cref="BackendException">The backend cannot run one of the layers; the message names it.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="imagesPerPass"/> does not divide the batch, or the backend is not the CPU's.</exception>
    public ExecutionPlan CreatePlan(IBackend backend, int batch = 1, bool fuse = true, int? imagesPerPass = null)
        => new(this, backend, batch, fuse, imagesPerPass: imagesPerPass);

    /// <summary>
    /// Builds a plan on a new backend for <paramref name="device"/> (e.g. <c>Device.Best()</c>); the plan owns that backend
    /// and disposes it with itself.
    /// </summary>
    /// <param name="device">Where to run.</param>
    /// <param name="batch">Images per run.</param>
    /// <param name="fuse">As for <see cref="CreatePlan"/>.</param>
    /// <exception cref="InvalidOperationException">The device is unavailable; the message says why.</exception>
    /// <exception cref="BackendException">The device cannot run one of the layers; the message names it.</exception>
    public ExecutionPlan To(Device device, int batch = 1, bool fuse = true)
    {
        ArgumentNullException.ThrowIfNull(device);
        var backend = device.CreateBackend();
        try
        {
            return new ExecutionPlan(this, backend, batch, fuse, ownsBackend: true);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Where <see cref="Predict"/> runs: <see cref="Device.Cpu"/> (every core) unless set, e.g. to <c>Device.Best()</c>.
    /// Setting it releases <see cref="Predict"/>'s cached plan and backend; the next call creates them on the new device.
    /// </summary>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    /// <exception cref="ArgumentException">The device is unavailable; the message says why.</exception>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public Device PredictDevice
    {
        get
        {
            lock (_predictGate) return _predictDevice;
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (!value.IsAvailable) throw new ArgumentException($"{value.Id} is unavailable: {value.UnavailableReason}.", nameof(value));
            lock (_predictGate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (value.Id == _predictDevice.Id) return; // the same device: the cached plan stays
                ReleasePredictPlan();
                _predictDevice = value;
            }
        }
    }

    /// <summary>
    /// Runs the model on <see cref="PredictDevice"/> and returns a new output tensor. A convenience: the plan is cached for
    /// the last batch size (and, for an open input size, the last height and width), but the output is allocated per
    /// call; use <see cref="CreatePlan"/> for allocation-free runs. Safe from any number of threads: concurrent calls take turns.
    /// </summary>
    /// <exception cref="LayerException">The input shape does not match the model input (open dimensions take any size).</exception>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public Tensor Predict(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var inputLayer = (InputLayer)Input.Layer;
        if (!inputLayer.Accepts(input.Shape))
            throw new LayerException(Input.Name, $"expected input {inputLayer.ToKerasString()} with any batch size, got {input.Shape}");
        lock (_predictGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _defaultBackend ??= _predictDevice.CreateBackend();
            if (_defaultPlan is null || _defaultPlan.Input.Shape != input.Shape)
            {
                _defaultPlan?.Dispose();
                _defaultPlan = null;
                _resized?.Dispose();
                _resized = null;
                var sized = this;
                if (input.Shape.WithBatch(1) != Input.OutputShape)
                    sized = _resized = WithInputSize(input.Shape.Height, input.Shape.Width);
                _defaultPlan = sized.CreatePlan(_defaultBackend, input.Shape.Batch);
            }
            var output = new Tensor(_defaultPlan.Output.Shape);
            try
            {
                _defaultPlan.Run(input.Span, output.Span);
            }
            catch
            {
                output.Dispose();
                throw;
            }
            return output;
        }
    }

    /// <summary>Drops cached plans, e.g. after weights change (ops capture folded weights when prepared).</summary>
    public void InvalidatePlans()
    {
        lock (_predictGate)
        {
            _defaultPlan?.Dispose();
            _defaultPlan = null;
            _resized?.Dispose();
            _resized = null;
        }
    }

    /// <summary>Disposes <see cref="Predict"/>'s plan and backend; called under <c>_predictGate</c>.</summary>
    private void ReleasePredictPlan()
    {
        _defaultPlan?.Dispose();
        _defaultPlan = null;
        _resized?.Dispose();
        _resized = null;
        _defaultBackend?.Dispose();
        _defaultBackend = null;
    }

    /// <summary>A Keras-style summary: layers, output shapes, parameters, connections and MACs.</summary>
    public ModelSummary Summary() => new(this);

    /// <summary>Releases the cached plans, and the weights of the layers no other undisposed model holds.</summary>
    /// <remarks>Waits for a <see cref="Predict"/> in progress on another thread; later calls throw <see cref="ObjectDisposedException"/>.</remarks>
    public void Dispose()
    {
        lock (_predictGate)
        {
            if (_disposed) return;
            _disposed = true;
            ReleasePredictPlan();
            foreach (var layer in Layers) layer.RemoveModel();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Layers.Count} layers, {ParameterCount:N0} params)";
}
