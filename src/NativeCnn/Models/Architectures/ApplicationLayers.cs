using NativeCnn.Backends;
using NativeCnn.Layers;

namespace NativeCnn.Models.Architectures;

/// <summary>Pieces every application builder shares (Keras's <c>imagenet_utils</c> and the common top).</summary>
internal static class ApplicationLayers
{
    /// <summary>
    /// Keras <c>imagenet_utils.correct_pad</c> for a known input size: the zero padding that makes a stride-2 'valid'
    /// window equal TF 'same' — <c>k/2</c> on each side, one less before the window on even sizes.
    /// </summary>
    public static Padding2D CorrectPad(int height, int width, int kernelSize)
    {
        int correct = kernelSize / 2;
        int adjustHeight = 1 - height % 2;
        int adjustWidth = 1 - width % 2;
        return new Padding2D(correct - adjustHeight, correct, correct - adjustWidth, correct);
    }

    /// <summary>Keras's <c>_make_divisible</c> / <c>round_filters</c> core, in double as Python computes it.</summary>
    public static int MakeDivisible(double value, int divisor = 8, int? minValue = null)
    {
        int min = minValue ?? divisor;
        // Python's int() truncates; values here are positive, so floor is the same.
        int rounded = Math.Max(min, (int)Math.Floor(value + divisor / 2.0) / divisor * divisor);
        // Never round down by more than 10%.
        if (rounded < 0.9 * value) rounded += divisor;
        return rounded;
    }

    /// <summary>The model input at a square resolution.</summary>
    public static Node Input(ApplicationOptions options, int resolution) =>
        Node.Input(resolution, resolution, options.InputChannels);

    /// <summary>
    /// The Keras classifier or pooling after the features: with <c>include_top</c>, global average pooling, an optional
    /// dropout and <c>predictions</c>; without it, the pooling that <see cref="ApplicationOptions.Pooling"/> asks for.
    /// </summary>
    public static Node Top(Node x, ApplicationOptions options, string averageName, string maxName, double dropout = 0, string dropoutName = "top_dropout")
    {
        if (options.IncludeTop)
        {
            x = new GlobalAveragePooling2D(averageName).Call(x);
            if (dropout > 0) x = new Dropout(dropoutName, dropout).Call(x);
            return new Dense("predictions", options.Classes, options.GetClassifierActivation()).Call(x);
        }
        return options.Pooling switch
        {
            GlobalPooling.Average => new GlobalAveragePooling2D(averageName).Call(x),
            GlobalPooling.Max => new GlobalMaxPooling2D(maxName).Call(x),
            _ => x,
        };
    }

    /// <summary>A Keras <c>Activation</c> layer.</summary>
    public static Node Activate(Node x, string name, ActivationFunction function) => new Activation(name, function).Call(x);
}
