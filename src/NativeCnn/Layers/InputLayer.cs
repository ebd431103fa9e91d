using NativeCnn.Backends;

namespace NativeCnn.Layers;

/// <summary>The model input (Keras <c>InputLayer</c>); it has no op, the plan writes the input buffer directly.</summary>
public sealed class InputLayer : Layer
{
    /// <summary>Creates an input of <paramref name="shape"/>, batch dimension included (its value is a placeholder).</summary>
    public InputLayer(string name, TensorShape shape) : base(name)
    {
        if (shape.Rank < 2) throw new ArgumentException($"{name}: an input shape needs a batch dimension and at least one more, got {shape}.", nameof(shape));
        Shape = shape;
    }

    /// <summary>The input shape with a placeholder batch dimension.</summary>
    public TensorShape Shape { get; }

    /// <inheritdoc/>
    public override TensorShape ComputeOutputShape(IReadOnlyList<TensorShape> inputShapes)
    {
        ExpectInputCount(inputShapes, 0);
        return Shape;
    }

    /// <summary>Input layers are bound, not run.</summary>
    /// <exception cref="InvalidOperationException">Always.</exception>
    public override OpDescriptor CreateOp(IReadOnlyList<TensorShape> inputShapes) =>
        throw new InvalidOperationException($"{Name}: an InputLayer has no op; the plan binds the input buffer.");
}
