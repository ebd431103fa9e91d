using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras <c>PReLU</c>: <c>x</c> for <c>x ≥ 0</c>, else <c>alpha · x</c>, with a learned weight <c>alpha</c> shaped as one sample of
/// the input, size 1 along each of <see cref="SharedAxes"/> (Keras's <c>shared_axes=[1, 2]</c> gives one slope per channel).
/// Initialized to zeros, as Keras's default <c>alpha_initializer</c>.
/// </summary>
public sealed class PReLU : Layer
{
    /// <summary>Creates the layer.</summary>
    /// <param name="name">The layer name.</param>
    /// <param name="sharedAxes">Input axes (1 = height, 2 = width, 3 = channels; 1 for a (batch, features) input) along
    /// which one slope is shared; none by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">An axis is not 1, 2 or 3, or appears twice.</exception>
    public PReLU(string name, params int[] sharedAxes) : base(name)
    {
        ArgumentNullException.ThrowIfNull(sharedAxes);
        if (sharedAxes.Any(a => a is < 1 or > 3) || sharedAxes.Distinct().Count() != sharedAxes.Length)
            throw new ArgumentOutOfRangeException(nameof(sharedAxes), $"{name}: shared_axes must be distinct axes among 1, 2, 3, got [{string.Join(", ", sharedAxes)}].");
        SharedAxes = [.. sharedAxes.Order()];
    }

    /// <summary>The input axes along which slopes are shared, ascending.</summary>
    public IReadOnlyList<int> SharedAxes { get; }

    /// <inheritdoc/>
    /// <exception cref="LayerException">The input is neither NHWC nor (batch, features), a shared axis is beyond its rank, or
    /// (once built) it does not match the slopes' shape.</exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        var input = ExpectSingleInput(inputShapes);
        if (input.Rank is not (2 or 4)) throw Error($"expected an NHWC or (batch, features) input, got {input}");
        if (SharedAxes.Any(a => a >= input.Rank)) throw Error($"shared axes [{string.Join(", ", SharedAxes)}] do not all lie within {input}");
        if (IsBuilt && GetWeight("alpha").Shape != AlphaShape(input))
            throw Error($"the slopes {GetWeight("alpha").Shape} were built for another input than {input}");
        return input;
    }

    private TensorShape AlphaShape(TensorShape input)
    {
        var dims = new int[input.Rank - 1];
        for (int axis = 1; axis < input.Rank; axis++) dims[axis - 1] = SharedAxes.Contains(axis) ? 1 : input[axis];
        return new TensorShape(dims);
    }

    /// <inheritdoc/>
    protected override void Build(IReadOnlyList<TensorShape> inputShapes) =>
        AddWeight("alpha", AlphaShape(inputShapes[0]), Initializer.Zeros);

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new PReluOp();

    /// <summary>The Keras config form of <c>PReLU</c>: <c>shared_axes</c> (null, an axis or a list) (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static KerasLayerEntry KerasEntry { get; } = KerasLayerEntry.Create<PReLU>("PReLU",
        read: c => new PReLU(c.LayerName, c.Has("shared_axes") ? c.IntOrList("shared_axes") : []),
        write: (layer, c) =>
        {
            if (layer.SharedAxes.Count == 0) c.Null("shared_axes");
            else c.IntList("shared_axes", layer.SharedAxes);
        },
        weightNames: ["alpha"]);
}
