using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>Reshape</c>: the same values under a new per-sample shape (e.g. EfficientNet's <c>se_reshape</c> to (1, 1, C));
/// one dimension may be <c>-1</c>, inferred from the input as Keras infers it.
/// </summary>
public sealed class Reshape : Layer
{
    /// <summary>Creates the layer; <paramref name="targetShape"/> excludes the batch dimension, as in Keras.</summary>
    /// <exception cref="ArgumentException">The shape has no dimension or more than 3, a dimension below 1 other than one <c>-1</c>.</exception>
    public Reshape(string name, params int[] targetShape) : base(name)
    {
        if (targetShape.Length is 0 or >= TensorShape.MaxRank || targetShape.Any(d => d < 1 && d != -1) || targetShape.Count(d => d == -1) > 1)
            throw new ArgumentException($"{name}: target shape must have 1 to {TensorShape.MaxRank - 1} positive dimensions (one may be -1), got ({string.Join(", ", targetShape)}).");
        TargetShape = targetShape;
    }

    /// <summary>The per-sample output shape as given; a <c>-1</c> is inferred.</summary>
    public IReadOnlyList<int> TargetShape { get; }

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleInput(inputShapes);
        var dims = new int[TargetShape.Count + 1];
        dims[0] = input.Batch;
        for (int i = 0; i < TargetShape.Count; i++) dims[i + 1] = TargetShape[i];
        int unknown = Array.IndexOf(dims, -1);
        if (unknown > 0)
        {
            long sample = input.ElementCount / Math.Max(1, input.Batch), known = 1;
            foreach (int d in TargetShape) known *= d == -1 ? 1 : d;
            if (sample % known != 0 || sample / known > int.MaxValue)
                throw Error($"cannot reshape {input} to ({string.Join(", ", TargetShape)}): {sample} values per sample are not a multiple of {known}");
            dims[unknown] = (int)(sample / known);
        }
        var output = new TensorShape(dims);
        if (output.ElementCount != input.ElementCount)
            throw Error($"cannot reshape {input} to {output.ToKerasString()}: {input.ElementCount / Math.Max(1, input.Batch)} values per sample vs {output.ElementCount / Math.Max(1, input.Batch)}");
        return output;
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new CopyOp();

    /// <summary>The Keras config form of <c>Reshape</c>: target_shape, with -1 or null (TensorFlow.js) for the inferred dimension (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Reshape>("Reshape",
        read: c => new Reshape(c.LayerName, c.DimensionList("target_shape")),
        write: (layer, c) => c.IntList("target_shape", layer.TargetShape));
}
