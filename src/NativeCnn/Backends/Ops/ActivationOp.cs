namespace NativeCnn.Backends;

/// <summary>Applies an activation element-wise (softmax: over the last axis).</summary>
public sealed record ActivationOp(ActivationFunction Activation) : OpDescriptor;
