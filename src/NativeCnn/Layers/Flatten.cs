using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>Flatten</c>: <c>(N, …)</c> to <c>(N, features)</c>, row-major (channels last, so NHWC order).</summary>
public sealed class Flatten(string name) : Layer(name)
{
    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleInput(inputShapes);
        long features = input.ElementCount / Math.Max(1, input.Batch);
        if (features > int.MaxValue) throw Error($"input {input} has too many features to flatten");
        return new TensorShape(input.Batch, (int)features);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new CopyOp();

    /// <summary>The Keras config form of <c>Flatten</c>: no arguments (channels last) (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Flatten>("Flatten", read: c => new Flatten(c.LayerName), write: (_, _) => { });
}
