using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>Reshape</c>: the same values under a new per-sample shape (e.g. EfficientNet's <c>se_reshape</c> to (1, 1, C)).</summary>
public sealed class Reshape : Layer
{
    /// <summary>Creates the layer; <paramref name="targetShape"/> excludes the batch dimension, as in Keras.</summary>
    public Reshape(string name, params int[] targetShape) : base(name)
    {
        if (targetShape.Length is 0 or >= TensorShape.MaxRank || targetShape.Any(d => d < 1))
            throw new ArgumentException($"{name}: target shape must have 1 to {TensorShape.MaxRank - 1} positive dimensions, got ({string.Join(", ", targetShape)}).");
        TargetShape = targetShape;
    }

    /// <summary>The per-sample output shape.</summary>
    public IReadOnlyList<int> TargetShape { get; }

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleInput(inputShapes);
        var dims = new int[TargetShape.Count + 1];
        dims[0] = input.Batch;
        for (int i = 0; i < TargetShape.Count; i++) dims[i + 1] = TargetShape[i];
        var output = new TensorShape(dims);
        if (output.ElementCount != input.ElementCount)
            throw Error($"cannot reshape {input} to {output.ToKerasString()}: {input.ElementCount / Math.Max(1, input.Batch)} values per sample vs {output.ElementCount / Math.Max(1, input.Batch)}");
        return output;
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new CopyOp();

    /// <summary>The Keras config form of <c>Reshape</c>: target_shape (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Reshape>("Reshape",
        read: c => new Reshape(c.LayerName, c.IntList("target_shape")),
        write: (layer, c) => c.IntList("target_shape", layer.TargetShape));
}
