namespace NativeCnn.Layers;

/// <summary>
/// One call of a layer in a model graph (Keras's symbolic tensor): the layer, the nodes it reads, and its output shape
/// with a placeholder batch dimension. Nodes are created by <see cref="Layer.Call(Node[])"/> and <see cref="Input(TensorShape, string)"/>.
/// </summary>
public sealed class Node
{
    private static long s_lastId;

    internal Node(Layer layer, IReadOnlyList<Node> inputs, TensorShape outputShape)
    {
        Layer = layer;
        Inputs = inputs;
        OutputShape = outputShape;
        Id = Interlocked.Increment(ref s_lastId);
    }

    /// <summary>Creates a model input of one sample's shape, e.g. <c>Node.Input(224, 224, 3)</c>.</summary>
    public static Node Input(int height, int width, int channels, string name = "input_layer") =>
        Input(TensorShape.Nhwc(1, height, width, channels), name);

    /// <summary>Creates a model input; the first dimension of <paramref name="shape"/> is the (placeholder) batch.</summary>
    public static Node Input(TensorShape shape, string name = "input_layer") => new InputLayer(name, shape).Call();

    /// <summary>The layer this node calls.</summary>
    public Layer Layer { get; }

    /// <summary>The nodes whose outputs are this node's inputs.</summary>
    public IReadOnlyList<Node> Inputs { get; }

    /// <summary>The output shape, batch dimension 1 as a placeholder.</summary>
    public TensorShape OutputShape { get; }

    /// <summary>Creation order; a model runs its nodes in this order, which is always a topological order.</summary>
    internal long Id { get; }

    /// <summary>The layer name.</summary>
    public string Name => Layer.Name;

    /// <inheritdoc/>
    public override string ToString() => $"{Layer.Name} {OutputShape.ToKerasString()}";
}
