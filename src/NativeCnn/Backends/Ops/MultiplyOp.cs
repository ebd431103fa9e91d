namespace NativeCnn.Backends;

/// <summary>
/// Element-wise product of two inputs (Keras <c>Multiply</c>). The second input may be <c>(N, 1, 1, C)</c> against an
/// <c>(N, H, W, C)</c> first input, which is how squeeze-and-excitation scales channels.
/// </summary>
public sealed record MultiplyOp : OpDescriptor;
