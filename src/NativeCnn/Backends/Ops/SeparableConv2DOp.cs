namespace NativeCnn.Backends;

/// <summary>
/// A depthwise convolution without bias or activation followed by a pointwise convolution with the bias and activation
/// (Keras <c>SeparableConv2D</c>). Weights, in order: the depthwise kernel <c>(kh, kw, in, multiplier)</c>, the pointwise
/// kernel <c>(1, 1, in · multiplier, filters)</c>, and the bias when <see cref="Conv2DOp.UseBias"/> of
/// <see cref="Pointwise"/>.
/// </summary>
/// <param name="Depthwise">The depthwise step; its bias is off and its activation linear.</param>
/// <param name="Pointwise">The pointwise (1x1, stride 1, unpadded) step.</param>
public sealed record SeparableConv2DOp(DepthwiseConv2DOp Depthwise, Conv2DOp Pointwise) : OpDescriptor
{
    /// <summary>The depthwise step's output for <paramref name="input"/>: what runs between the two steps.</summary>
    /// <exception cref="ArgumentException">The input is not NHWC or the window does not fit it.</exception>
    public TensorShape IntermediateShape(TensorShape input)
    {
        if (input.Rank != 4) throw new ArgumentException($"expected an NHWC input, got {input}", nameof(input));
        var d = Depthwise;
        int height = Padding2D.OutputSize(input.Height, d.Padding.Top, d.Padding.Bottom, d.KernelHeight, d.StrideHeight, d.DilationHeight);
        int width = Padding2D.OutputSize(input.Width, d.Padding.Left, d.Padding.Right, d.KernelWidth, d.StrideWidth, d.DilationWidth);
        long channels = (long)input.Channels * d.DepthMultiplier;
        if (channels > int.MaxValue) throw new ArgumentException($"{input.Channels} channels x {d.DepthMultiplier} exceed 32 bits", nameof(input));
        return TensorShape.Nhwc(input.Batch, height, width, (int)channels);
    }
}
