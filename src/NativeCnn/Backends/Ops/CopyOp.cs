namespace NativeCnn.Backends;

/// <summary>
/// Copies the input unchanged into an output of the same element count: Reshape, Flatten, and Dropout at inference.
/// </summary>
public sealed record CopyOp : OpDescriptor;
