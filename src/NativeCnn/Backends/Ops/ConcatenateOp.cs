namespace NativeCnn.Backends;

/// <summary>
/// Joins two or more inputs along <see cref="Axis"/> (Keras <c>Concatenate</c>); every other dimension must agree.
/// </summary>
/// <param name="Axis">The dimension joined, counted from 0 (the batch) in the inputs' shape: 3 joins the channels of
/// NHWC tensors. The batch axis cannot be joined.</param>
public sealed record ConcatenateOp(int Axis) : OpDescriptor;
