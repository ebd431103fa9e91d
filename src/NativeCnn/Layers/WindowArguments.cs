using NativeCnn.Backends;
using NativeCnn.Tensors;

namespace NativeCnn.Layers;

/// <summary>Validation and output-size arithmetic shared by windowed layers (convolutions and pooling).</summary>
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

    public static (int Height, int Width) OutputSize(Layer layer, TensorShape input, (int Height, int Width) kernel,
                                                     (int Height, int Width) strides, (int Height, int Width) dilation, Padding padding)
    {
        var pads = Padding2D.Resolve(padding, input.Height, input.Width, kernel.Height, kernel.Width,
                                     strides.Height, strides.Width, dilation.Height, dilation.Width);
        int h = Padding2D.OutputSize(input.Height, pads.Top, pads.Bottom, kernel.Height, strides.Height, dilation.Height);
        int w = Padding2D.OutputSize(input.Width, pads.Left, pads.Right, kernel.Width, strides.Width, dilation.Width);
        if (h < 1 || w < 1)
            throw new LayerException(layer.Name,
                $"input {input} is smaller than the {kernel.Height}x{kernel.Width} window (dilation {dilation.Height}x{dilation.Width}) with '{padding.ToString().ToLowerInvariant()}' padding");
        return (h, w);
    }
}
