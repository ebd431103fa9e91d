namespace NativeCnn.Backends;

/// <summary>
/// <c>output[..., c] = activation(input[..., c] * Scale[c] + Shift[c])</c>. Inference BatchNormalization, Rescaling and
/// Normalization all reduce to this once their weights are known; <see cref="Scale"/> and <see cref="Shift"/> have one
/// value per channel.
/// </summary>
public sealed record ChannelAffineOp(float[] Scale, float[] Shift, ActivationFunction Activation) : OpDescriptor;
