using NativeCnn.Weights.Pretrained;
using System.Globalization;
using NativeCnn.Backends;
using NativeCnn.Layers;

namespace NativeCnn.Models.Architectures;

/// <summary>
/// Keras <c>keras.applications.MobileNet</c> (v1, <c>keras/src/applications/mobilenet.py</c>): the same layers, names,
/// widths and paddings, so Keras weights load by name. The model expects RGB scaled to [-1, 1] (<c>x / 127.5 − 1</c>).
/// </summary>
/// <remarks>
/// Thirteen depthwise-separable blocks <c>conv_dw_N</c> / <c>conv_pw_N</c> after the stem <c>conv1</c>. The stride-2
/// blocks pad <c>((0, 1), (0, 1))</c> with <c>conv_pad_N</c> whatever the input parity (not <c>correct_pad</c>); the
/// top is a 1×1 convolution <c>conv_preds</c> on the kept-dims average, not a Dense layer. Every BatchNormalization has
/// Keras's default epsilon 1e-3.
/// </remarks>
public static class MobileNet
{
    // (pointwise filters, stride) of blocks conv_dw_1 … conv_dw_13, block_id = index + 1.
    private static readonly (int Filters, int Stride)[] s_blocks =
    [
        (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
        (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
    ];

    private const int DefaultResolution = 224;

    /// <summary>Keras's default dropout rate before <c>conv_preds</c>.</summary>
    public const double DropoutRate = 1e-3;

    /// <summary>The Keras model name, e.g. <c>mobilenet_1.00_224</c> (<c>f"mobilenet_{alpha:0.2f}_{rows}"</c>).</summary>
    public static string ModelName(double alpha, int resolution) =>
        string.Create(CultureInfo.InvariantCulture, $"mobilenet_{alpha:0.00}_{resolution}");

    /// <summary>
    /// Builds MobileNet with <see cref="ApplicationOptions.Alpha"/> and <see cref="ApplicationOptions.DepthMultiplier"/> at
    /// <see cref="ApplicationOptions.Resolution"/> (default 224).
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid (alpha not a published width, resolution below 32, …).</exception>
    public static Model Create(ApplicationOptions? options = null)
    {
        options ??= new ApplicationOptions();
        options.Validate();
        options.ValidateMobileNetAlpha();
        options.RejectMinimalistic("MobileNet");
        double alpha = options.Alpha;
        int depthMultiplier = options.DepthMultiplier;
        int resolution = options.ResolutionOr(DefaultResolution);

        var input = ApplicationLayers.Input(options, resolution);
        // Keras's _conv_block: int(filters * alpha), truncating.
        var x = new Conv2D("conv1", (int)(32 * alpha), 3, 2, Padding.Same, useBias: false).Call(input);
        x = new BatchNormalization("conv1_bn").Call(x);
        x = new ReLU("conv1_relu", 6f).Call(x);

        for (int i = 0; i < s_blocks.Length; i++)
        {
            var (filters, stride) = s_blocks[i];
            x = DepthwiseConvBlock(x, (int)(filters * alpha), depthMultiplier, stride, i + 1);
        }

        if (options.IncludeTop)
        {
            int classes = options.Classes;
            // Keras leaves the pooling unnamed; this is the name it gets in a fresh session.
            x = new GlobalAveragePooling2D("global_average_pooling2d", keepDims: true).Call(x);
            x = new Dropout("dropout", DropoutRate).Call(x);
            x = new Conv2D("conv_preds", classes, 1, 1, Padding.Same).Call(x);
            x = new Reshape("reshape_2", classes).Call(x);
            x = ApplicationLayers.Activate(x, "predictions", options.GetClassifierActivation());
        }
        else
        {
            x = ApplicationLayers.Top(x, options, "global_average_pooling2d", "global_max_pooling2d");
        }
        return ApplicationWeights.Load(new Model(ModelName(alpha, resolution), input, x), options);
    }

    // Keras's _depthwise_conv_block: depthwise 3×3, BN, ReLU6, pointwise 1×1, BN, ReLU6; no residual.
    private static Node DepthwiseConvBlock(Node x, int pointwiseFilters, int depthMultiplier, int stride, int blockId)
    {
        // Keras pads ((0, 1), (0, 1)) for every stride-2 block, which equals TF 'same' only on even sizes.
        if (stride == 2) x = new ZeroPadding2D($"conv_pad_{blockId}", new Padding2D(0, 1, 0, 1)).Call(x);
        x = new DepthwiseConv2D($"conv_dw_{blockId}", (3, 3), (stride, stride), stride == 1 ? Padding.Same : Padding.Valid,
                                depthMultiplier, useBias: false).Call(x);
        x = new BatchNormalization($"conv_dw_{blockId}_bn").Call(x);
        x = new ReLU($"conv_dw_{blockId}_relu", 6f).Call(x);
        x = new Conv2D($"conv_pw_{blockId}", pointwiseFilters, 1, 1, Padding.Same, useBias: false).Call(x);
        x = new BatchNormalization($"conv_pw_{blockId}_bn").Call(x);
        return new ReLU($"conv_pw_{blockId}_relu", 6f).Call(x);
    }
}
