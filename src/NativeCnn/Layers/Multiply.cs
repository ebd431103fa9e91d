using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>Multiply</c> of two inputs: equal shapes, or <c>(N, H, W, C)</c> by <c>(N, 1, 1, C)</c> broadcast over height and
/// width (EfficientNet's <c>se_excite</c>).
/// </summary>
public sealed class Multiply(string name) : Layer(name)
{
    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        ExpectInputCount(inputShapes, 2);
        TensorShape left = inputShapes[0], right = inputShapes[1];
        bool perChannel = left.Rank == 4 && right == TensorShape.Nhwc(left.Batch, 1, 1, left.Channels);
        if (left != right && !perChannel)
            throw Error($"cannot multiply {left} by {right}: shapes must be equal or the second (N, 1, 1, C)");
        return left;
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new MultiplyOp();

    /// <summary>The Keras config form of <c>Multiply</c>: no arguments (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Multiply>("Multiply", read: c => new Multiply(c.LayerName), write: (_, _) => { });
}
