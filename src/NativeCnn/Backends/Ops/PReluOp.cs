namespace NativeCnn.Backends;

/// <summary>
/// Parametric ReLU (Keras <c>PReLU</c>): <c>x</c> for <c>x ≥ 0</c>, else <c>alpha · x</c>, with one weight <c>alpha</c> shaped as a
/// sample of the input (<c>(H, W, C)</c> or <c>(features)</c>) in which the shared axes have size 1 and broadcast.
/// </summary>
public sealed record PReluOp : OpDescriptor;
