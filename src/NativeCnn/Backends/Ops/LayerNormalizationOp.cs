namespace NativeCnn.Backends;

/// <summary>
/// Normalizes each position over the last axis (Keras <c>LayerNormalization(axis=-1)</c>):
/// <c>y = (x − mean) / sqrt(variance + ε) · gamma + beta</c> with the biased variance of that position's values.
/// Weights, in order: <c>gamma</c> when <see cref="Scale"/>, <c>beta</c> when <see cref="Center"/>, each of the last axis's length.
/// </summary>
/// <param name="Epsilon">Added to the variance.</param>
/// <param name="Center">Whether <c>beta</c> is added.</param>
/// <param name="Scale">Whether <c>gamma</c> multiplies.</param>
public sealed record LayerNormalizationOp(double Epsilon, bool Center, bool Scale) : OpDescriptor;
