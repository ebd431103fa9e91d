using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>Add</c>: element-wise sum of two or more inputs of the same shape (residual connections).</summary>
public sealed class Add(string name) : Layer(name)
{
    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        if (inputShapes.Count < 2) throw Error($"expected at least 2 inputs, got {inputShapes.Count}");
        for (int i = 1; i < inputShapes.Count; i++)
        {
            if (inputShapes[i] != inputShapes[0])
                throw Error($"all inputs must have the same shape: input 0 is {inputShapes[0]}, input {i} is {inputShapes[i]}");
        }
        return inputShapes[0];
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new AddOp();

    /// <summary>The Keras config form of <c>Add</c>: no arguments (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Add>("Add", read: c => new Add(c.LayerName), write: (_, _) => { });
}
