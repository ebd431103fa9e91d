namespace NativeCnn.Backends;

/// <summary>
/// Fully connected layer on the last axis: <c>activation(input · kernel + bias)</c>. Weights: kernel <c>(in, Units)</c>,
/// then bias <c>(Units)</c> when <see cref="UseBias"/>. A softmax activation normalizes each output row.
/// </summary>
public sealed record DenseOp(int Units, bool UseBias, ActivationFunction Activation) : OpDescriptor;
