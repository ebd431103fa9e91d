using NativeCnn.Backends;

namespace NativeCnn.Layers;

/// <summary>
/// A Keras-style layer: a name, weights in Keras layout, shape inference, and the op it runs. Layers never touch files
/// or devices; a backend turns <see cref="CreateOp"/>'s descriptor into a kernel.
/// </summary>
/// <remarks>
/// As in Keras, a layer creates its weights the first time it is called on inputs (<see cref="Call(Node[])"/>),
/// because their shapes depend on the input channels. New weights are seeded from the layer name, so a model built
/// twice has the same weights. Shapes given to layers include the batch dimension.
/// </remarks>
public abstract class Layer
{
    private readonly List<LayerWeight> _weights = [];
    private IWeightSource? _weightSource;
    // Models holding this layer (see Model's remarks on ownership): the weights are released when the last one is disposed.
    private int _models;

    /// <summary>Creates a layer with a Keras name.</summary>
    /// <exception cref="ArgumentException">The name is empty or contains '/'.</exception>
    protected Layer(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains('/'))
            throw new ArgumentException($"A layer name must be non-empty and must not contain '/', got '{name}'.", nameof(name));
        Name = name;
    }

    /// <summary>The Keras layer name, e.g. <c>block2a_expand_conv</c>.</summary>
    public string Name { get; }

    /// <summary>The Keras class name, e.g. <c>DepthwiseConv2D</c>.</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>The weights in Keras order (empty until the layer is built).</summary>
    public IReadOnlyList<LayerWeight> Weights => _weights;

    /// <summary>Whether the weights exist (the layer has been called on inputs).</summary>
    public bool IsBuilt { get; private set; }

    /// <summary>
    /// Whether training updates this layer (Keras <c>layer.trainable</c>, default true). A frozen layer's weights get no
    /// gradients and keep their values; a frozen <see cref="BatchNormalization"/> also runs in inference mode (moving
    /// statistics, no update), as Keras does. Gradients still flow through a frozen layer to the layers before it.
    /// </summary>
    public bool Trainable { get; set; } = true;

    /// <summary>The number of weight values.</summary>
    public long ParameterCount => _weights.Sum(w => w.Value.Shape.ElementCount);

    /// <summary>The number of trainable weight values: none while the layer is frozen (<see cref="Trainable"/>), as Keras counts.</summary>
    public long TrainableParameterCount => Trainable ? _weights.Where(w => w.Trainable).Sum(w => w.Value.Shape.ElementCount) : 0;

    /// <summary>Connects the layer to its inputs, as Keras's <c>layer(x)</c>: builds the weights and infers the output shape.</summary>
    /// <exception cref="LayerException">The inputs do not fit the layer.</exception>
    public Node Call(params Node[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var shapes = inputs.Select(n => n.OutputShape).ToArray();
        var output = ComputeOutputShape(shapes);
        if (!IsBuilt)
        {
            Build(shapes);
            IsBuilt = true;
        }
        return new Node(this, inputs, output);
    }

    /// <summary>
    /// As <see cref="Call(Node[])"/> for a model built from a file: each weight is checked by <paramref name="weights"/>
    /// before it is allocated, and left at zero instead of initialised, because the file supplies every value.
    /// </summary>
    internal Node Call(IWeightSource weights, params Node[] inputs)
    {
        _weightSource = weights;
        try
        {
            return Call(inputs);
        }
        finally
        {
            _weightSource = null;
        }
    }

    /// <summary>Counts a model that holds this layer; its weights live until every such model is disposed.</summary>
    internal void AddModel() => Interlocked.Increment(ref _models);

    /// <summary>Uncounts a disposed model; the last one releases the weights.</summary>
    internal void RemoveModel()
    {
        if (Interlocked.Decrement(ref _models) == 0)
            foreach (var weight in _weights) weight.Value.Dispose();
    }

    /// <summary>The output shape for these input shapes (batch included).</summary>
    /// <exception cref="LayerException">The inputs do not fit the layer; the message names the layer and both shapes.</exception>
    public abstract TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes);

    /// <summary>The operation this layer performs on inputs of these shapes, for a backend to prepare.</summary>
    public abstract OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes);

    /// <summary>
    /// The operation this layer performs in a training step on inputs of these shapes: <see cref="CreateOp"/>'s, except
    /// for layers that behave differently while training (<see cref="BatchNormalization"/> with batch statistics,
    /// <see cref="Dropout"/>).
    /// </summary>
    public virtual OpDescriptor CreateTrainingOp(IReadOnlyList<TensorShape> inputShapes) => CreateOp(inputShapes);

    /// <summary>Multiply-accumulate operations for one forward pass at these shapes (0 for layers without products).</summary>
    public virtual long CountMultiplyAccumulates(IReadOnlyList<TensorShape> inputShapes, TensorShape outputShape) => 0;

    /// <summary>A one-line description of the layer's arguments, for summaries.</summary>
    public virtual string Describe() => ClassName;

    /// <summary>The weight called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The layer has no such weight.</exception>
    public LayerWeight GetWeight(string name) =>
        _weights.FirstOrDefault(w => w.Name == name)
        ?? throw new KeyNotFoundException($"{Name}: no weight '{name}' (has: {string.Join(", ", _weights.Select(w => w.Name))}).");

    /// <summary>Creates the weights for these input shapes; called once, on the first <see cref="Call(Node[])"/>.</summary>
    protected virtual void Build(IReadOnlyList<TensorShape> inputShapes) { }

    /// <summary>Adds a weight filled by <paramref name="initializer"/> (when built from a file: checked first, left for the file to fill).</summary>
    protected LayerWeight AddWeight(string name, TensorShape shape, Initializer initializer, bool trainable = true)
    {
        var source = _weightSource;
        source?.Reserve(this, name, shape);
        var tensor = new Tensor(shape);
        if (source is null) initializer.Fill(tensor.Span, shape, SeedFor(name));
        var weight = new LayerWeight(this, name, tensor, trainable);
        _weights.Add(weight);
        return weight;
    }

    /// <summary>Throws a <see cref="LayerException"/> naming this layer.</summary>
    protected LayerException Error(string problem) => new(Name, problem);

    /// <summary>Checks the number of inputs.</summary>
    protected void ExpectInputCount(IReadOnlyList<TensorShape> inputShapes, int count)
    {
        if (inputShapes.Count != count)
            throw Error($"expected {count} input{(count == 1 ? "" : "s")}, got {inputShapes.Count}");
    }

    /// <summary>Checks for exactly one input and returns it.</summary>
    protected TensorShape ExpectSingleInput(IReadOnlyList<TensorShape> inputShapes)
    {
        ExpectInputCount(inputShapes, 1);
        return inputShapes[0];
    }

    /// <summary>
    /// Once the layer is built, checks that <paramref name="input"/> has the channels its weight
    /// <paramref name="weightName"/> was built for (dimension <paramref name="axis"/> of the weight).
    /// </summary>
    protected void ExpectBuiltChannels(TensorShape input, string weightName, int axis)
    {
        if (IsBuilt && input.Channels != GetWeight(weightName).Shape[axis])
            throw Error($"expected input with {GetWeight(weightName).Shape[axis]} channels, got {input}");
    }

    /// <summary>Checks for exactly one NHWC input and returns it.</summary>
    protected TensorShape ExpectSingleNhwc(IReadOnlyList<TensorShape> inputShapes)
    {
        var shape = ExpectSingleInput(inputShapes);
        if (shape.Rank != 4) throw Error($"expected a rank-4 NHWC input (batch, height, width, channels), got {shape}");
        return shape;
    }

    /// <summary>A seed for <paramref name="weightName"/> of this layer: FNV-1a of "layer/weight", stable across runs and
    /// builds, unlike string.GetHashCode.</summary>
    protected int SeedFor(string weightName)
    {
        uint hash = 2166136261;
        foreach (char ch in $"{Name}/{weightName}") hash = (hash ^ ch) * 16777619;
        return (int)(hash & 0x7FFFFFFF);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({ClassName})";
}

/// <summary>
/// The file a model is being built from, seen by <see cref="Layer"/> while it creates its weights: a loader checks each
/// declared weight against the file's tensors before anything is allocated for it, so a config that declares more than
/// the file holds is refused up front.
/// </summary>
internal interface IWeightSource
{
    /// <summary>Claims a file tensor for weight <paramref name="name"/> of <paramref name="layer"/>; throws
    /// <see cref="InvalidDataException"/> naming both when the file holds none of that shape left.</summary>
    void Reserve(Layer layer, string name, TensorShape shape);
}
