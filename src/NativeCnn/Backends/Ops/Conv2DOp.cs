namespace NativeCnn.Backends;

/// <summary>
/// 2-D convolution (cross-correlation, as TensorFlow). Weights: kernel <c>(kh, kw, in, filters)</c> (HWIO), then bias
/// <c>(filters)</c> when <see cref="UseBias"/>. With <see cref="AddsResidual"/> the op has a second input of the output's
/// shape, added before the activation: <c>act(conv(x) + bias + residual)</c>, a fused residual connection. With
/// <see cref="ScalesInputChannels"/> the last input is a <c>(batch, 1, 1, in)</c> tensor that multiplies every input channel
/// of its image first, <c>conv(x · s)</c>: squeeze-and-excitation's excitation, so the scaled tensor is never written.
/// </summary>
public sealed record Conv2DOp(int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth,
                              int DilationHeight, int DilationWidth, Padding2D Padding, int Filters,
                              bool UseBias, ActivationFunction Activation, bool AddsResidual = false,
                              bool ScalesInputChannels = false) : OpDescriptor
{
    /// <summary>Whether the kernel is 1×1 with stride 1, no dilation and no padding: a plain matrix product over pixels.</summary>
    public bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1
                               && DilationHeight == 1 && DilationWidth == 1 && Padding == Padding2D.None;
}
