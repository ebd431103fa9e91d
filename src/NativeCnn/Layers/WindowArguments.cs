using NativeCnn.Backends;

namespace NativeCnn.Layers;

/// <summary>Validation and output-size arithmetic shared by windowed layers (convolutions and pooling).</summary>
/// <remarks>
/// The rule every windowed layer applies at build time (<see cref="Layer.ComputeOutputShape"/>), per axis, with all
/// arithmetic in 64 bits:
/// <list type="bullet">
/// <item>'valid': the dilated window <c>(kernel − 1)·dilation + 1</c> must fit inside the input.</item>
/// <item>'same': a window larger than the input is fine undilated (a 3x3 depthwise on a 1x1 map); its padding is always
/// less than the window. A dilated window (dilation &gt; 1, kernel &gt; 1) whose dilation is at least the input size is
/// refused: at most one of its taps can ever land in the input, the rest always read padding, and a huge dilation would
/// need a padded extent of about <c>kernel·dilation</c>.</item>
/// <item>The window arithmetic must fit an <see cref="int"/>: <c>pad_before + input + (output − 1)·stride +
/// (kernel − 1)·dilation + stride + dilation</c>, which bounds the pads, the padded extent, the output size and every
/// coordinate a kernel computes (a pool or stride near int.MaxValue is refused by it, while a 2^30 'same' pool on a
/// small map is accepted and runs clipped to the map); and the output tensor must fit
/// the memory this process may use (<see cref="TensorLimits.OutputProblem"/>).</item>
/// </list>
/// With these rules the 'same' padding of every axis is less than <c>(kernel − 1)·dilation + 1</c> with dilation less
/// than the input, so it is bounded by the kernel times the input.
/// </remarks>
internal static class WindowArguments
{
    public static void Validate(string name, (int Height, int Width) kernel, (int Height, int Width) strides, (int Height, int Width) dilation)
    {
        if (kernel.Height < 1 || kernel.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(kernel), $"{name}: kernel/pool size must be at least 1, got {kernel}.");
        if (strides.Height < 1 || strides.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(strides), $"{name}: strides must be at least 1, got {strides}.");
        if (dilation.Height < 1 || dilation.Width < 1)
            throw new ArgumentOutOfRangeException(nameof(dilation), $"{name}: dilation rate must be at least 1, got {dilation}.");
    }

    /// <summary>The output height and width of the window over <paramref name="input"/>, refused by the rule above.</summary>
    /// <exception cref="LayerException">The window does not fit the input by the rule; the message names the layer and the numbers.</exception>
    public static (int Height, int Width) OutputSize(Layer layer, TensorShape input, (int Height, int Width) kernel,
                                                     (int Height, int Width) strides, (int Height, int Width) dilation, Padding padding)
    {
        string window = $"{kernel.Height}x{kernel.Width} window (strides {strides.Height}x{strides.Width}, dilation {dilation.Height}x{dilation.Width}, "
                        + $"'{padding.ToString().ToLowerInvariant()}' padding)";
        CheckAxis(layer, window, "height", input, input.Height, kernel.Height, strides.Height, dilation.Height, padding);
        CheckAxis(layer, window, "width", input, input.Width, kernel.Width, strides.Width, dilation.Width, padding);
        // CheckAxis has refused everything Padding2D would throw for, with the layer's name.
        var pads = Padding2D.Resolve(padding, input.Height, input.Width, kernel.Height, kernel.Width,
                                     strides.Height, strides.Width, dilation.Height, dilation.Width);
        int h = Padding2D.OutputSize(input.Height, pads.Top, pads.Bottom, kernel.Height, strides.Height, dilation.Height);
        int w = Padding2D.OutputSize(input.Width, pads.Left, pads.Right, kernel.Width, strides.Width, dilation.Width);
        if (h < 1 || w < 1)
            throw new LayerException(layer.Name, $"input {input} has no position for the {window}");
        return (h, w);
    }

    /// <summary><paramref name="value"/> as an <see cref="int"/> dimension, or a refusal naming the layer.</summary>
    /// <exception cref="LayerException">The value does not fit an <see cref="int"/>.</exception>
    public static int Dimension(Layer layer, string what, long value) =>
        value <= int.MaxValue ? (int)value : throw new LayerException(layer.Name, $"{what} {value} does not fit a 32-bit dimension (at most {int.MaxValue})");

    /// <summary>The output shape, refused when no backend could hold it (see <see cref="TensorLimits.OutputProblem"/>).</summary>
    /// <exception cref="LayerException">The output is too large.</exception>
    public static TensorShape Output(Layer layer, int batch, int height, int width, long channels)
    {
        var shape = TensorShape.Nhwc(batch, height, width, Dimension(layer, "output channels", channels));
        return TensorLimits.OutputProblem(shape) is { } problem ? throw new LayerException(layer.Name, problem) : shape;
    }

    /// <summary><paramref name="sides"/>, refused unless each is non-negative (ZeroPadding2D's padding, Cropping2D's cropping).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A side is negative; the message names the layer and the argument.</exception>
    public static Padding2D NonNegativeSides(string name, string argument, Padding2D sides) =>
        sides.Top < 0 || sides.Bottom < 0 || sides.Left < 0 || sides.Right < 0
            ? throw new ArgumentOutOfRangeException(argument, $"{name}: {argument} must be non-negative, got {sides}.")
            : sides;

    /// <summary>Multiply-accumulates of <paramref name="outputElements"/> outputs of <paramref name="perOutput"/> products each, without wrapping.</summary>
    /// <exception cref="OverflowException">The count does not fit 64 bits.</exception>
    public static long MultiplyAccumulates(long outputElements, params ReadOnlySpan<long> perOutput)
    {
        long count = outputElements;
        foreach (long factor in perOutput) count = checked(count * factor);
        return count;
    }

    private static void CheckAxis(Layer layer, string window, string axis, TensorShape input, int size, int kernel, int stride, int dilation, Padding padding)
    {
        long effective = Padding2D.EffectiveWindow(kernel, dilation);
        string extent = $"({kernel} - 1) * dilation {dilation} + 1 = {effective}";
        long output, total;
        if (padding == Padding.Valid)
        {
            if (effective > size)
                throw new LayerException(layer.Name, $"input {input} is smaller than the {window} along the {axis}: {extent} > {size}");
            (output, total) = ((size - effective) / stride + 1, 0);
        }
        else
        {
            // TensorFlow's SAME output and total padding, in 64 bits.
            output = ((long)size + stride - 1) / stride;
            total = Math.Max(0, (output - 1) * stride + effective - size);
            if (kernel > 1 && dilation > 1 && dilation >= size)
                throw new LayerException(layer.Name,
                    $"the {window} has dilation {dilation} along the {axis}, at least the input {axis} {size} (input {input}, {kernel} taps, "
                    + $"'same' padding of {total} in all): at most one tap of each window can reach the input and the rest always read padding; "
                    + $"use a dilation below {size}");
        }
        // The kernels' 32-bit window coordinates stay below this sum (the bound Cpu.Kernels.WindowChecks.Axis enforces).
        long reach = total / 2 + size + Math.Max(output - 1, 0) * stride + (effective - 1) + stride + dilation;
        if (reach > int.MaxValue)
            throw new LayerException(layer.Name,
                $"the {window} along the {axis} ({extent}, padding of {total} in all, {output} outputs) over the input {axis} {size} "
                + $"needs window coordinates up to {reach}, past the 32-bit limit {int.MaxValue}");
    }
}
