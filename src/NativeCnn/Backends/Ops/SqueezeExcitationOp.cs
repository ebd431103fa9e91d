namespace NativeCnn.Backends;

/// <summary>
/// Fused squeeze-and-excitation: global average pool → 1×1 reduce conv (+bias) → <see cref="ReduceActivation"/> →
/// 1×1 expand conv (+bias) → sigmoid → scale the input channels. Weights: reduce kernel <c>(1, 1, C, R)</c>, reduce bias
/// <c>(R)</c>, expand kernel <c>(1, 1, R, C)</c>, expand bias <c>(C)</c>, as Keras names them <c>se_reduce</c>/<c>se_expand</c>.
/// With <see cref="ExcitationOnly"/> the output is the sigmoid excitation itself, <c>(batch, 1, 1, C)</c>, for a
/// following convolution that scales its input channels (<see cref="Conv2DOp.ScalesInputChannels"/>).
/// </summary>
public sealed record SqueezeExcitationOp(int ReducedChannels, ActivationFunction ReduceActivation, bool ExcitationOnly = false) : OpDescriptor;
