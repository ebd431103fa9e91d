using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>Concatenate</c>: joins two or more inputs along <see cref="Axis"/>; every other dimension must agree
/// (DenseNet's and Inception's channel concatenations, U-Net skip connections).
/// </summary>
public sealed class Concatenate : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">The layer name.</param>
    /// <param name="axis">The axis joined, as Keras counts it: 0 is the batch, negative counts from the end (-1, the
    /// default, is the channels of NHWC tensors). The batch axis cannot be joined.</param>
    public Concatenate(string name, int axis = -1) : base(name) => Axis = axis;

    /// <summary>The axis as given (Keras's <c>axis</c>); <see cref="ResolveAxis"/> gives it for a rank.</summary>
    public int Axis { get; }

    /// <summary>The axis counted from 0 (the batch) for inputs of <paramref name="rank"/> dimensions.</summary>
    /// <exception cref="LayerException">The axis is the batch axis or outside the rank.</exception>
    public int ResolveAxis(int rank)
    {
        int axis = Axis < 0 ? rank + Axis : Axis;
        if (axis < 1 || axis >= rank) throw Error($"axis {Axis} is not a non-batch axis of a rank-{rank} input");
        return axis;
    }

    /// <inheritdoc/>
    /// <exception cref="LayerException">Fewer than two inputs, ranks differ, a dimension other than the axis differs, or
    /// the joined axis does not fit 32 bits; the message names the inputs and their shapes.</exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        if (inputShapes.Count < 2) throw Error($"expected at least 2 inputs, got {inputShapes.Count}");
        var first = inputShapes[0];
        int axis = ResolveAxis(first.Rank);
        long joined = 0;
        for (int i = 0; i < inputShapes.Count; i++)
        {
            var shape = inputShapes[i];
            bool agrees = shape.Rank == first.Rank;
            for (int d = 0; agrees && d < first.Rank; d++) agrees = d == axis || shape[d] == first[d];
            if (!agrees) throw Error($"input {i} is {shape}, which differs from input 0 ({first}) outside axis {Axis}");
            joined += shape[axis];
        }
        var dims = first.ToArray();
        dims[axis] = joined <= int.MaxValue ? (int)joined : throw Error($"the joined axis would hold {joined} entries, more than 32 bits");
        var output = new TensorShape(dims);
        if (output.ElementCount > int.MaxValue) throw Error($"the output {output} has more than {int.MaxValue} elements");
        return output;
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new ConcatenateOp(ResolveAxis(inputShapes[0].Rank));

    /// <inheritdoc/>
    public override string Describe() => $"Concatenate axis {Axis}";

    /// <summary>The Keras config form of <c>Concatenate</c>: <c>axis</c>, -1 when absent (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Concatenate>("Concatenate",
        read: c => new Concatenate(c.LayerName, c.AxisOrFirst("axis", -1)),
        write: (layer, c) => c.Int("axis", layer.Axis));
}
