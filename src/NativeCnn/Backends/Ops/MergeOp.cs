namespace NativeCnn.Backends;

/// <summary>How <see cref="MergeOp"/> combines its same-shaped inputs, element by element.</summary>
public enum MergeMode
{
    /// <summary><c>x0 − x1</c>, of exactly two inputs (Keras <c>Subtract</c>).</summary>
    Subtract,
    /// <summary>The largest input; a NaN in any input gives NaN (Keras <c>Maximum</c>).</summary>
    Maximum,
    /// <summary>The smallest input; a NaN in any input gives NaN (Keras <c>Minimum</c>).</summary>
    Minimum,
    /// <summary><c>(x0 + x1 + … ) / n</c>, summed in input order and then divided, as Keras computes it (Keras <c>Average</c>).</summary>
    Average,
}

/// <summary>An element-wise merge of two or more inputs of the same shape (Keras's merge layers other than Add and Multiply).</summary>
/// <param name="Mode">The combination.</param>
public sealed record MergeOp(MergeMode Mode) : OpDescriptor;
