namespace NativeCnn.Backends;

/// <summary>Keras <c>padding</c> argument of convolutions and pooling.</summary>
public enum Padding
{
    /// <summary>No padding; the window must fit inside the input.</summary>
    Valid,
    /// <summary>TensorFlow 'SAME': output size <c>ceil(in / stride)</c>, the odd extra pixel padded bottom/right.</summary>
    Same,
}

/// <summary>Explicit zero padding on each side of the spatial dimensions; kernels only ever see this form.</summary>
/// <remarks>
/// All window arithmetic here is done in 64 bits: a configuration whose pads, padded extent or output size do not fit
/// a 32-bit <see cref="int"/> is refused with an exception that names the numbers, never wrapped into a wrong shape.
/// </remarks>
public readonly record struct Padding2D(int Top, int Bottom, int Left, int Right)
{
    /// <summary>No padding.</summary>
    public static Padding2D None => default;

    /// <summary>
    /// Resolves Keras <paramref name="padding"/> to explicit pads for one window, following TensorFlow's
    /// <c>GetWindowedOutputSizeVerbose</c>: SAME puts <c>pad_total / 2</c> before and the rest after.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// An input size is negative, a kernel size, stride or dilation is below 1, or the dilated window
    /// <c>(kernel − 1)·dilation + 1</c>, a pad or the padded extent does not fit an <see cref="int"/>.
    /// </exception>
    public static Padding2D Resolve(Padding padding, int inputHeight, int inputWidth, int kernelHeight, int kernelWidth,
                                    int strideHeight, int strideWidth, int dilationHeight = 1, int dilationWidth = 1)
    {
        var (top, bottom) = Pads(padding, inputHeight, kernelHeight, strideHeight, dilationHeight, "height");
        var (left, right) = Pads(padding, inputWidth, kernelWidth, strideWidth, dilationWidth, "width");
        return new Padding2D(top, bottom, left, right);
    }

    /// <summary>
    /// Output size of a window over <paramref name="input"/> with these pads (VALID arithmetic after padding):
    /// <c>(input + padBefore + padAfter − ((kernel − 1)·dilation + 1)) / stride + 1</c>, or 0 when the window does not fit.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The input or a pad is negative, the kernel size, stride or dilation is below 1, or the padded extent does not fit
    /// an <see cref="int"/>.
    /// </exception>
    public static int OutputSize(int input, int padBefore, int padAfter, int kernel, int stride, int dilation = 1)
    {
        CheckWindow(input, kernel, stride, dilation, "size");
        if (padBefore < 0 || padAfter < 0)
            throw new ArgumentOutOfRangeException(nameof(padBefore), $"Pads must be non-negative, got {padBefore} before and {padAfter} after.");
        long padded = CheckedPaddedExtent(input, padBefore, padAfter, "size");
        long effective = EffectiveWindow(kernel, dilation);
        // (padded - effective) / stride + 1 <= padded <= int.MaxValue, so the cast cannot wrap.
        return padded < effective ? 0 : (int)((padded - effective) / stride + 1);
    }

    /// <summary>The extent <c>(kernel − 1)·dilation + 1</c> a dilated window spans, in 64 bits (at most about 2^62).</summary>
    public static long EffectiveWindow(int kernel, int dilation) => ((long)kernel - 1) * dilation + 1;

    private static (int Before, int After) Pads(Padding padding, int input, int kernel, int stride, int dilation, string axis)
    {
        CheckWindow(input, kernel, stride, dilation, axis);
        long effective = EffectiveWindow(kernel, dilation);
        if (effective > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(dilation),
                $"The {axis} window ({kernel} - 1) * {dilation} + 1 = {effective} does not fit a 32-bit size.");
        if (padding == Padding.Valid) return (0, 0);
        long output = ((long)input + stride - 1) / stride;
        long total = Math.Max(0, (output - 1) * stride + effective - input);
        // total < effective <= int.MaxValue: ceil(input / stride) windows always start inside the input.
        long before = total / 2, after = total - before;
        CheckedPaddedExtent(input, before, after, axis);
        return ((int)before, (int)after);
    }

    private static void CheckWindow(int input, int kernel, int stride, int dilation, string axis)
    {
        if (input < 0) throw new ArgumentOutOfRangeException(nameof(input), $"The input {axis} must be non-negative, got {input}.");
        if (kernel < 1 || stride < 1 || dilation < 1)
            throw new ArgumentOutOfRangeException(nameof(kernel),
                $"Kernel size, stride and dilation must be at least 1, got kernel {kernel}, stride {stride}, dilation {dilation} along the {axis}.");
    }

    private static long CheckedPaddedExtent(long input, long before, long after, string axis)
    {
        long padded = input + before + after;
        if (padded > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(input),
                $"The padded {axis} {input} + {before} + {after} = {padded} does not fit a 32-bit size.");
        return padded;
    }
}
