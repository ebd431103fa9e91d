namespace NativeCnn.Backends;

/// <summary>
/// Depthwise 2-D convolution: output channel <c>c * DepthMultiplier + q</c> filters input channel <c>c</c>.
/// Weights: kernel <c>(kh, kw, in, DepthMultiplier)</c>, then bias <c>(in * DepthMultiplier)</c> when <see cref="UseBias"/>.
/// </summary>
public sealed record DepthwiseConv2DOp(int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth,
                                       int DilationHeight, int DilationWidth, Padding2D Padding, int DepthMultiplier,
                                       bool UseBias, ActivationFunction Activation) : OpDescriptor;
