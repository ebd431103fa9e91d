namespace NativeCnn.Backends;

/// <summary>
/// Reorders the axes of each sample (Keras <c>Permute</c>): output axis <c>i + 1</c> is input axis <c>Dims[i]</c>, with axes
/// numbered from 1 after the batch, as Keras numbers them (<c>Permute((2, 1, 3))</c> swaps height and width).
/// </summary>
/// <param name="Dims">A permutation of <c>1 … rank − 1</c>.</param>
public sealed record PermuteOp(IReadOnlyList<int> Dims) : OpDescriptor
{
    /// <inheritdoc/>
    public bool Equals(PermuteOp? other) => other is not null && Dims.SequenceEqual(other.Dims);

    /// <inheritdoc/>
    public override int GetHashCode() => Dims.Aggregate(17, (h, d) => h * 31 + d);
}
