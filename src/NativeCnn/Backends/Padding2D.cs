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
public readonly record struct Padding2D(int Top, int Bottom, int Left, int Right)
{
    /// <summary>No padding.</summary>
    public static Padding2D None => default;

    /// <summary>
    /// Resolves Keras <paramref name="padding"/> to explicit pads for one window, following TensorFlow's
    /// <c>GetWindowedOutputSizeVerbose</c>: SAME puts <c>pad_total / 2</c> before and the rest after.
    /// </summary>
    public static Padding2D Resolve(Padding padding, int inputHeight, int inputWidth, int kernelHeight, int kernelWidth,
                                    int strideHeight, int strideWidth, int dilationHeight = 1, int dilationWidth = 1)
    {
        if (padding == Padding.Valid) return None;
        var (top, bottom) = SamePads(inputHeight, kernelHeight, strideHeight, dilationHeight);
        var (left, right) = SamePads(inputWidth, kernelWidth, strideWidth, dilationWidth);
        return new Padding2D(top, bottom, left, right);
    }

    /// <summary>Output size of a window over <paramref name="input"/> with these pads (VALID arithmetic after padding).</summary>
    public static int OutputSize(int input, int padBefore, int padAfter, int kernel, int stride, int dilation = 1)
    {
        int effective = (kernel - 1) * dilation + 1;
        int padded = input + padBefore + padAfter;
        return padded < effective ? 0 : (padded - effective) / stride + 1;
    }

    private static (int Before, int After) SamePads(int input, int kernel, int stride, int dilation)
    {
        int effective = (kernel - 1) * dilation + 1;
        int output = (input + stride - 1) / stride;
        int total = Math.Max(0, (output - 1) * stride + effective - input);
        return (total / 2, total - total / 2);
    }
}
