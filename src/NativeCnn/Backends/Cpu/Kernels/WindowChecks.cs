namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Once-per-call checks of a window's parameters, in 64 bits, for the kernels that index through raw pointers: after
/// them no 32-bit window coordinate a kernel computes (<c>y·stride − pad + ky·dilation</c>, a tap range's bounds, a
/// row count) can wrap, so a lying descriptor throws instead of reading outside its buffers.
/// </summary>
internal static class WindowChecks
{
    /// <summary>
    /// <see cref="Padding2D.OutputSize"/> for one axis of layer <paramref name="layerName"/>'s window op, checked by
    /// <see cref="Axis"/> when a backend prepares the op, before anything is allocated or read.
    /// </summary>
    /// <exception cref="BackendException">A pad, size, the padded extent or a window coordinate is out of range; the message names the layer.</exception>
    public static int OutputSize(string layerName, string axis, int input, int padBefore, int padAfter, int kernel, int stride, int dilation)
    {
        try
        {
            int output = Padding2D.OutputSize(input, padBefore, padAfter, kernel, stride, dilation);
            Axis(axis, input, output, kernel, stride, dilation, padBefore, (Input: input, PadBefore: padBefore, PadAfter: padAfter));
            return output;
        }
        catch (ArgumentException e)
        {
            throw new BackendException($"{layerName}: the {axis} window (input {input}, pads {padBefore} and {padAfter}, kernel {kernel}, "
                                       + $"stride {stride}, dilation {dilation}) is out of range: {e.Message}", e);
        }
    }

    /// <summary>
    /// Checks one spatial axis: sizes and the pad non-negative, kernel, stride and dilation positive, and every
    /// intermediate of the window arithmetic, bounded by <c>pad + input + (output − 1)·stride + (kernel − 1)·dilation +
    /// stride + dilation</c>, inside <see cref="int"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names the axis, the values and <paramref name="p"/>.</exception>
    public static void Axis<TParams>(string axis, int input, int output, int kernel, int stride, int dilation, int padBefore, in TParams p)
        where TParams : struct
    {
        if (input < 0 || output < 0 || padBefore < 0)
            throw new ArgumentException($"The {axis} sizes and pad must be non-negative: input {input}, output {output}, pad {padBefore} in {p}.", nameof(p));
        if (kernel < 1 || stride < 1 || dilation < 1)
            throw new ArgumentException($"The {axis} kernel {kernel}, stride {stride} and dilation {dilation} must be positive in {p}.", nameof(p));
        long reach = (long)padBefore + input + (long)Math.Max(output - 1, 0) * stride + ((long)kernel - 1) * dilation + stride + dilation;
        if (reach > int.MaxValue)
            throw new ArgumentException(
                $"The {axis} window arithmetic reaches {reach} (pad {padBefore} + input {input} + (output {output} - 1) * stride {stride} + "
                + $"(kernel {kernel} - 1) * dilation {dilation} + stride + dilation), past {int.MaxValue}, in {p}.", nameof(p));
    }

    /// <summary>
    /// The product of non-negative <paramref name="dimensions"/>, saturating at <see cref="long.MaxValue"/>: four 32-bit
    /// sizes can overflow 64 bits, and a wrapped count would let a short buffer pass a length check.
    /// </summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static long Count(params ReadOnlySpan<int> dimensions)
    {
        long count = 1;
        foreach (int d in dimensions)
        {
            if (d < 0) throw new ArgumentException($"A size is negative ({d}).", nameof(dimensions));
            if (d == 0) return 0;
            count = count > long.MaxValue / d ? long.MaxValue : count * d;
        }
        return count;
    }

    /// <summary>Checks that <c>batch · outputHeight</c> work rows and the batch are counted without wrapping.</summary>
    /// <exception cref="ArgumentException">The batch is negative or the row count does not fit an <see cref="int"/>.</exception>
    public static void Rows<TParams>(int batch, int outputHeight, in TParams p) where TParams : struct
    {
        if (batch < 0 || (long)batch * outputHeight > int.MaxValue)
            throw new ArgumentException($"Batch {batch} × output height {outputHeight} rows do not fit a 32-bit count in {p}.", nameof(p));
    }

    /// <summary>Checks that a channel count is non-negative and <c>channels · multiplier</c> fits an <see cref="int"/>.</summary>
    /// <exception cref="ArgumentException">The count is negative or the product does not fit.</exception>
    public static void Channels<TParams>(int channels, int multiplier, in TParams p) where TParams : struct
    {
        if (channels < 0 || (long)channels * multiplier > int.MaxValue)
            throw new ArgumentException($"{channels} channels × {multiplier} do not fit a 32-bit count in {p}.", nameof(p));
    }
}
