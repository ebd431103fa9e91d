using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>Permute</c>: reorders the axes of each sample, numbered from 1 after the batch (<c>Permute((2, 1, 3))</c>
/// transposes height and width of an NHWC tensor; <c>Permute((3, 1, 2))</c> makes channels the first sample axis).
/// </summary>
public sealed class Permute : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException"><paramref name="dims"/> is not a permutation of <c>1 … n</c> for some n from 1 to 3.</exception>
    public Permute(string name, params int[] dims) : base(name)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length is 0 or >= TensorShape.MaxRank || !dims.Order().SequenceEqual(Enumerable.Range(1, dims.Length)))
            throw new ArgumentException($"{name}: dims must be a permutation of 1..n (n at most {TensorShape.MaxRank - 1}), got ({string.Join(", ", dims)}).", nameof(dims));
        Dims = dims;
    }

    /// <summary>Output axis <c>i + 1</c> is input axis <c>Dims[i]</c>.</summary>
    public IReadOnlyList<int> Dims { get; }

    /// <inheritdoc/>
    /// <exception cref="LayerException">The input's rank is not <c>Dims.Count + 1</c>.</exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleInput(inputShapes);
        if (input.Rank != Dims.Count + 1) throw Error($"dims ({string.Join(", ", Dims)}) permute {Dims.Count} axes, but {input} has {input.Rank - 1} after the batch");
        var dims = new int[input.Rank];
        dims[0] = input.Batch;
        for (int i = 0; i < Dims.Count; i++) dims[i + 1] = input[Dims[i]];
        return new TensorShape(dims);
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) =>
        Dims.Select((d, i) => d == i + 1).All(same => same) ? new CopyOp() : new PermuteOp(Dims);

    /// <summary>The Keras config form of <c>Permute</c>: dims (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<Permute>("Permute",
        read: c => new Permute(c.LayerName, c.IntList("dims")),
        write: (layer, c) => c.IntList("dims", layer.Dims));
}
