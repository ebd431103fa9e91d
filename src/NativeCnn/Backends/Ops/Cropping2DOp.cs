namespace NativeCnn.Backends;

/// <summary>Removes rows and columns at the edges of height and width (Keras <c>Cropping2D</c>).</summary>
/// <param name="Cropping">How many rows (top, bottom) and columns (left, right) are removed, each non-negative.</param>
public sealed record Cropping2DOp(Padding2D Cropping) : OpDescriptor;
