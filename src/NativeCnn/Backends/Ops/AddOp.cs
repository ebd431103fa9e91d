namespace NativeCnn.Backends;

/// <summary>Element-wise sum of two or more inputs of the same shape (Keras <c>Add</c>).</summary>
public sealed record AddOp : OpDescriptor;
