namespace NativeCnn.Weights;

/// <summary>
/// One weight as a file holds it: its Keras name (<c>block1a_dwconv/depthwise_kernel</c>; readers strip TensorFlow's
/// <c>:0</c>), its shape, and its values in Keras layout, already converted to float32.
/// </summary>
/// <param name="Name">The Keras weight path, <c>layer/weight</c>.</param>
/// <param name="Shape">The dimensions.</param>
/// <param name="Values">The values, row-major.</param>
public sealed record WeightTensor(string Name, int[] Shape, float[] Values)
{
    /// <summary>The layer part of <see cref="Name"/> (before the last '/').</summary>
    public string LayerName => Name.LastIndexOf('/') is var slash and > 0 ? Name[..slash] : Name;

    /// <summary>The weight part of <see cref="Name"/> (after the last '/').</summary>
    public string WeightName => Name[(Name.LastIndexOf('/') + 1)..];

    /// <summary>The shape as Keras prints it, e.g. <c>(3, 3, 32, 1)</c>.</summary>
    public string ShapeText => $"({string.Join(", ", Shape)})";

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {ShapeText}";
}
