namespace NativeCnn.Backends;

/// <summary>
/// 2-D convolution (cross-correlation, as TensorFlow). Weights: kernel <c>(kh, kw, in, filters)</c> (HWIO), then bias
/// <c>(filters)</c> when <see cref="UseBias"/>. With <see cref="AddsResidual"/> the op has a second input of the output's
/// shape, added before the activation: <c>act(conv(x) + bias + residual)</c>, a fused residual connection.
/// </summary>
public sealed record Conv2DOp(int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth,
                              int DilationHeight, int DilationWidth, Padding2D Padding, int Filters,
                              bool UseBias, ActivationFunction Activation, bool AddsResidual = false) : OpDescriptor;
