using System.Globalization;
using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Weights.Pretrained;

namespace NativeCnn.Models.Architectures;

/// <summary>
/// Keras <c>keras.applications.MobileNetV2</c> (<c>keras/src/applications/mobilenet_v2.py</c>): the same layers, names,
/// widths and paddings, so Keras weights load by name. The model expects RGB scaled to [-1, 1] (<c>x / 127.5 − 1</c>).
/// </summary>
/// <remarks>
/// As in tf.keras and Keras 3, <c>Conv1</c> pads 'same' itself (no <c>Conv1_pad</c> layer, which only the old standalone
/// keras_applications had); the stride-2 blocks pad explicitly with <c>block_N_pad</c> (<c>correct_pad</c>).
/// </remarks>
public static class MobileNetV2
{
    // (filters, stride, expansion) of the 17 inverted-residual blocks, block_id = index.
    private static readonly (int Filters, int Stride, int Expansion)[] s_blocks =
    [
        (16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6), (64, 1, 6),
        (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6),
    ];

    private const double BatchNormEpsilon = 1e-3;
    // Keras's momentum for this family's BatchNormalization (the moving-average rate of training).
    private const double BatchNormMomentum = 0.999;
    private const int DefaultResolution = 224;

    /// <summary>Keras <c>_make_divisible</c>: rounds to the nearest multiple of <paramref name="divisor"/>, never down by more than 10%.</summary>
    public static int MakeDivisible(double value, int divisor = 8, int? minValue = null) =>
        ApplicationLayers.MakeDivisible(value, divisor, minValue);

    /// <summary>The Keras model name, e.g. <c>mobilenetv2_1.00_224</c>.</summary>
    public static string ModelName(double alpha, int resolution) =>
        string.Create(CultureInfo.InvariantCulture, $"mobilenetv2_{alpha:0.00}_{resolution}");

    /// <summary>Builds MobileNetV2 with <see cref="ApplicationOptions.Alpha"/> at <see cref="ApplicationOptions.Resolution"/> (default 224).</summary>
    /// <exception cref="ArgumentException">The options are invalid (alpha not a published width, resolution below 32, …).</exception>
    public static Model Create(ApplicationOptions? options = null)
    {
        options ??= new ApplicationOptions();
        options.Validate();
        options.ValidateMobileNetV2Alpha();
        options.RejectDepthMultiplier("MobileNetV2");
        options.RejectMinimalistic("MobileNetV2");
        double alpha = options.Alpha;
        int resolution = options.ResolutionOr(DefaultResolution);

        var input = ApplicationLayers.Input(options, resolution);
        int firstBlockFilters = MakeDivisible(32 * alpha, 8);
        var x = new Conv2D("Conv1", firstBlockFilters, 3, 2, Padding.Same, useBias: false).Call(input);
        x = new BatchNormalization("bn_Conv1", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
        x = new ReLU("Conv1_relu", 6f).Call(x);

        for (int id = 0; id < s_blocks.Length; id++)
        {
            var (filters, stride, expansion) = s_blocks[id];
            x = InvertedResidualBlock(x, expansion, stride, alpha, filters, id);
        }

        // No alpha on the last conv unless it widens the model.
        int lastBlockFilters = alpha > 1.0 ? MakeDivisible(1280 * alpha, 8) : 1280;
        x = new Conv2D("Conv_1", lastBlockFilters, 1, 1, Padding.Valid, useBias: false).Call(x);
        x = new BatchNormalization("Conv_1_bn", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
        x = new ReLU("out_relu", 6f).Call(x);
        // Keras leaves the pooling layers unnamed; these are the names they get in a fresh session.
        x = ApplicationLayers.Top(x, options, "global_average_pooling2d", "global_max_pooling2d");
        return ApplicationWeights.Load(new Model(ModelName(alpha, resolution), input, x), options);
    }

    private static Node InvertedResidualBlock(Node inputs, int expansion, int stride, double alpha, int filters, int blockId)
    {
        int inChannels = inputs.OutputShape.Channels;
        // int() before rounding, as Keras does.
        int pointwiseFilters = MakeDivisible((int)(filters * alpha), 8);
        var x = inputs;
        string prefix = $"block_{blockId}_";
        if (blockId > 0)
        {
            x = new Conv2D(prefix + "expand", expansion * inChannels, 1, 1, Padding.Same, useBias: false).Call(x);
            x = new BatchNormalization(prefix + "expand_BN", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
            x = new ReLU(prefix + "expand_relu", 6f).Call(x);
        }
        else
        {
            prefix = "expanded_conv_";
        }

        if (stride == 2)
            x = new ZeroPadding2D(prefix + "pad", ApplicationLayers.CorrectPad(x.OutputShape.Height, x.OutputShape.Width, 3)).Call(x);
        x = new DepthwiseConv2D(prefix + "depthwise", 3, stride, stride == 1 ? Padding.Same : Padding.Valid, useBias: false).Call(x);
        x = new BatchNormalization(prefix + "depthwise_BN", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
        x = new ReLU(prefix + "depthwise_relu", 6f).Call(x);

        // Linear bottleneck: no activation after the projection.
        x = new Conv2D(prefix + "project", pointwiseFilters, 1, 1, Padding.Same, useBias: false).Call(x);
        x = new BatchNormalization(prefix + "project_BN", BatchNormEpsilon, momentum: BatchNormMomentum).Call(x);
        if (inChannels == pointwiseFilters && stride == 1)
            return new Add(prefix + "add").Call(inputs, x);
        return x;
    }
}
