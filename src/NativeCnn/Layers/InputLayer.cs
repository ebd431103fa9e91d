using NativeCnn.Backends;

namespace NativeCnn.Layers;

/// <summary>The model input (Keras <c>InputLayer</c>); it has no op, the plan writes the input buffer directly.</summary>
/// <param name="name">The layer name.</param>
/// <param name="shape">The input shape, batch dimension included (its value is a placeholder); an open dimension holds
/// the size the graph is built at.</param>
/// <param name="heightIsOpen">The model accepts any height (Keras <c>None</c>); needs an NHWC shape.</param>
/// <param name="widthIsOpen">The model accepts any width; needs an NHWC shape.</param>
/// <exception cref="ArgumentException">The shape has no dimension besides the batch, or an open size is not NHWC.</exception>
public sealed class InputLayer(string name, TensorShape shape, bool heightIsOpen = false, bool widthIsOpen = false) : Layer(name)
{
    /// <summary>
    /// The height and width a model whose input size is open (Keras <c>(None, None, None, 3)</c>) is built at until it
    /// is given a size (<see cref="Models.Model.WithInputSize"/>, or an input to run): the ImageNet size.
    /// </summary>
    public const int OpenSizePlaceholder = 224;

    /// <summary>The input shape with a placeholder batch dimension.</summary>
    public TensorShape Shape { get; } = CheckShape(name, shape, heightIsOpen || widthIsOpen);

    /// <summary>Whether the model accepts inputs of any height (Keras <c>None</c>); <see cref="Shape"/> holds the height it is built at.</summary>
    public bool HeightIsOpen { get; } = heightIsOpen;

    /// <summary>Whether the model accepts inputs of any width; <see cref="Shape"/> holds the width it is built at.</summary>
    public bool WidthIsOpen { get; } = widthIsOpen;

    /// <summary>Whether the height or the width is open.</summary>
    public bool SizeIsOpen => HeightIsOpen || WidthIsOpen;

    /// <summary>Whether an input of <paramref name="shape"/> (any batch) fits: every dimension equal, except open ones.</summary>
    public bool Accepts(TensorShape shape)
    {
        if (shape.Rank != Shape.Rank) return false;
        for (int axis = 1; axis < Shape.Rank; axis++)
        {
            bool open = (axis == 1 && HeightIsOpen) || (axis == 2 && WidthIsOpen);
            if (!open && shape[axis] != Shape[axis]) return false;
        }
        return true;
    }

    /// <summary>Keras's form of the input shape: <c>(None, None, None, 3)</c> for an open size.</summary>
    public string ToKerasString()
    {
        var dims = new string[Shape.Rank];
        dims[0] = "None";
        for (int axis = 1; axis < Shape.Rank; axis++)
            dims[axis] = (axis == 1 && HeightIsOpen) || (axis == 2 && WidthIsOpen) ? "None" : Shape[axis].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"({string.Join(", ", dims)})";
    }

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

    private static TensorShape CheckShape(string name, TensorShape shape, bool sizeIsOpen)
    {
        if (shape.Rank < 2) throw new ArgumentException($"{name}: an input shape needs a batch dimension and at least one more, got {shape}.", nameof(shape));
        if (sizeIsOpen && shape.Rank != 4)
            throw new ArgumentException($"{name}: only an NHWC input can have an open height or width, got {shape}.", nameof(shape));
        return shape;
    }
}
