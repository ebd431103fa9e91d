namespace NativeCnn.Backends;

/// <summary>
/// Transposed 2-D convolution (TensorFlow's <c>conv2d_transpose</c>, Keras <c>Conv2DTranspose</c>): the gradient of a
/// convolution with respect to its input, so each input pixel adds <c>kernel · x</c> into an output window placed at
/// <c>stride · position − pad</c>. Weights: kernel <c>(kh, kw, filters, in)</c> (Keras's layout: output channels before input
/// channels), then bias <c>(filters)</c> when <see cref="UseBias"/>; the activation follows the bias.
/// </summary>
/// <param name="KernelHeight">Kernel rows.</param>
/// <param name="KernelWidth">Kernel columns.</param>
/// <param name="StrideHeight">Output rows between consecutive input rows.</param>
/// <param name="StrideWidth">Output columns between consecutive input columns.</param>
/// <param name="PadTop">Rows cut from the top of the full scattered output (TensorFlow's forward-convolution padding of the output).</param>
/// <param name="PadLeft">Columns cut from the left, likewise.</param>
/// <param name="OutputHeight">Output rows.</param>
/// <param name="OutputWidth">Output columns.</param>
/// <param name="Filters">Output channels.</param>
/// <param name="UseBias">Whether weight 1 is a bias.</param>
/// <param name="Activation">The element-wise activation after the bias.</param>
public sealed record Conv2DTransposeOp(int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PadTop, int PadLeft,
                                       int OutputHeight, int OutputWidth, int Filters, bool UseBias, ActivationFunction Activation) : OpDescriptor
{
    /// <summary>
    /// TensorFlow's padding for a transposed convolution of <paramref name="input"/> positions into <paramref name="output"/>:
    /// the 'same' padding (before the window) of the forward convolution from output to input, or 0 for 'valid'.
    /// Null when that forward convolution would not give back <paramref name="input"/> positions (TensorFlow refuses such shapes).
    /// </summary>
    public static int? PadBefore(Padding padding, int input, int output, int kernel, int stride)
    {
        if (padding == Padding.Valid)
            return output >= kernel && (output - kernel) / stride + 1 == input ? 0 : null;
        long forward = (output + (long)stride - 1) / stride;
        if (forward != input) return null;
        long total = Math.Max((input - 1L) * stride + kernel - output, 0);
        return (int)(total / 2);
    }
}
