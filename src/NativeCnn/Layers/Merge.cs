using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>
/// Keras's element-wise merge layers of same-shaped inputs other than <see cref="Add"/> and <see cref="Multiply"/>:
/// <see cref="Subtract"/>, <see cref="Maximum"/>, <see cref="Minimum"/> and <see cref="Average"/>.
/// </summary>
public abstract class Merge : Layer
{
    private protected Merge(string name, MergeMode mode) : base(name) => Mode = mode;

    /// <summary>How the inputs are combined.</summary>
    public MergeMode Mode { get; }

    /// <inheritdoc/>
    /// <exception cref="LayerException">The input count is wrong (exactly 2 for Subtract, at least 2 otherwise) or the shapes differ.</exception>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        if (Mode == MergeMode.Subtract) ExpectInputCount(inputShapes, 2);
        else if (inputShapes.Count < 2) throw Error($"expected at least 2 inputs, got {inputShapes.Count}");
        for (int i = 1; i < inputShapes.Count; i++)
        {
            if (inputShapes[i] != inputShapes[0])
                throw Error($"all inputs must have the same shape: input 0 is {inputShapes[0]}, input {i} is {inputShapes[i]}");
        }
        return inputShapes[0];
    }

    /// <inheritdoc/>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) => new MergeOp(Mode);

    /// <summary>The Keras config form of a merge layer: no arguments (see <see cref="KerasLayerRegistry"/>).</summary>
    private protected static KerasLayerEntry EntryFor<TMerge>(Func<string, TMerge> create) where TMerge : Merge =>
        KerasLayerEntry.Create<TMerge>(typeof(TMerge).Name, read: c => create(c.LayerName), write: (_, _) => { });
}

/// <summary>Keras <c>Subtract</c>: the first of two inputs minus the second.</summary>
public sealed class Subtract(string name) : Merge(name, MergeMode.Subtract)
{
    internal static KerasLayerEntry KerasEntry { get; } = EntryFor(name => new Subtract(name));
}

/// <summary>Keras <c>Maximum</c>: the element-wise largest of two or more inputs (NaN propagates).</summary>
public sealed class Maximum(string name) : Merge(name, MergeMode.Maximum)
{
    internal static KerasLayerEntry KerasEntry { get; } = EntryFor(name => new Maximum(name));
}

/// <summary>Keras <c>Minimum</c>: the element-wise smallest of two or more inputs (NaN propagates).</summary>
public sealed class Minimum(string name) : Merge(name, MergeMode.Minimum)
{
    internal static KerasLayerEntry KerasEntry { get; } = EntryFor(name => new Minimum(name));
}

/// <summary>Keras <c>Average</c>: the sum of two or more inputs, in input order, divided by their count.</summary>
public sealed class Average(string name) : Merge(name, MergeMode.Average)
{
    internal static KerasLayerEntry KerasEntry { get; } = EntryFor(name => new Average(name));
}
