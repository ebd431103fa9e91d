using NativeCnn.Backends;
using NativeCnn.Tensors;

namespace NativeCnn.Benchmarks;

/// <summary>The table of <see cref="OpCase"/>s <see cref="OpBenchmarks"/> runs.</summary>
public static class OpCases
{
    /// <summary>All cases, in table order.</summary>
    public static IReadOnlyList<OpCase> All { get; } =
    [
        Conv("conv3x3_56x56x64", "resnet50 conv2_block1_2_conv", 56, 56, 64, 64, 3, 1, Padding.Same, ActivationFunction.Relu),
        Conv("conv3x3s2_225x225x3", "efficientnetb0 stem_conv (after stem_conv_pad)", 225, 225, 3, 32, 3, 2, Padding.Valid, ActivationFunction.Swish),
        Conv("conv7x7s2_230x230x3", "resnet50 conv1_conv (after conv1_pad)", 230, 230, 3, 64, 7, 2, Padding.Valid, ActivationFunction.Relu),
        Conv("conv1x1_56x56_64to256", "resnet50 conv2_block1_3_conv", 56, 56, 64, 256, 1, 1, Padding.Valid, ActivationFunction.Linear),
        Conv("conv1x1_14x14_1024to256", "resnet50 conv4_block2_1_conv", 14, 14, 1024, 256, 1, 1, Padding.Valid, ActivationFunction.Relu),
        Conv("conv1x1_14x14_112to672", "efficientnetb0 block5b_expand_conv", 14, 14, 112, 672, 1, 1, Padding.Valid, ActivationFunction.Swish),
        Conv("conv1x1_7x7_320to1280", "efficientnetb0 top_conv", 7, 7, 320, 1280, 1, 1, Padding.Valid, ActivationFunction.Swish),
        Depthwise("dw3x3_112x112x32", "efficientnetb0 block1a_dwconv", 112, 112, 32, 3, 1, ActivationFunction.Swish),
        Depthwise("dw3x3s2_112x112x96", "efficientnetb0 block2a_dwconv", 112, 112, 96, 3, 2, ActivationFunction.Swish),
        Depthwise("dw5x5_28x28x240", "efficientnetb0 block3b_dwconv", 28, 28, 240, 5, 1, ActivationFunction.Swish),
        Depthwise("dw5x5_14x14x672", "efficientnetb0 block5b_dwconv", 14, 14, 672, 5, 1, ActivationFunction.Swish),
        new("dense_2048to1000", "resnet50 predictions", new DenseOp(1000, UseBias: true, ActivationFunction.Softmax),
            [new TensorShape(1, 2048)], new TensorShape(1, 1000), [new TensorShape(2048, 1000), new TensorShape(1000)], 2L * 2048 * 1000),
        new("maxpool3x3s2_112x112x64", "resnet50 pool1_pool (pool1_pad folded in)",
            new Pooling2DOp(PoolingMode.Max, 3, 3, 2, 2, new Padding2D(1, 1, 1, 1), PaddedCellsAreZeros: true),
            [Nhwc(112, 112, 64)], Nhwc(56, 56, 64), [], 56L * 56 * 64 * 9),
        new("avgpool3x3_28x28x256", "3x3 'same' average pooling (no model here has one)",
            new Pooling2DOp(PoolingMode.Average, 3, 3, 1, 1, new Padding2D(1, 1, 1, 1)),
            [Nhwc(28, 28, 256)], Nhwc(28, 28, 256), [], 28L * 28 * 256 * 9),
        new("gap_7x7x2048", "resnet50 avg_pool", new GlobalPooling2DOp(PoolingMode.Average),
            [Nhwc(7, 7, 2048)], new TensorShape(1, 2048), [], 7L * 7 * 2048),
        new("gap_7x7x1280", "efficientnetb0 avg_pool", new GlobalPooling2DOp(PoolingMode.Average),
            [Nhwc(7, 7, 1280)], new TensorShape(1, 1280), [], 7L * 7 * 1280),
        new("add_56x56x256", "resnet50 conv2_block1_add", new AddOp(),
            [Nhwc(56, 56, 256), Nhwc(56, 56, 256)], Nhwc(56, 56, 256), [], 56L * 56 * 256),
        new("multiply_28x28x240_by_channel", "efficientnetb0 block3b_se_excite", new MultiplyOp(),
            [Nhwc(28, 28, 240), Nhwc(1, 1, 240)], Nhwc(28, 28, 240), [], 28L * 28 * 240),
        new("swish_112x112x96", "efficientnetb0 block2a_expand_activation", new ActivationOp(ActivationFunction.Swish),
            [Nhwc(112, 112, 96)], Nhwc(112, 112, 96), [], 112L * 112 * 96),
        new("relu6_112x112x96", "mobilenetv2 block_1_expand_relu", new ActivationOp(ActivationFunction.Relu6),
            [Nhwc(112, 112, 96)], Nhwc(112, 112, 96), [], 112L * 112 * 96),
        new("batchnorm_112x112x32", "mobilenetv2 bn_Conv1 (unfused)",
            new ChannelAffineOp(Enumerable.Repeat(0.9f, 32).ToArray(), Enumerable.Repeat(0.1f, 32).ToArray(), ActivationFunction.Relu6),
            [Nhwc(112, 112, 32)], Nhwc(112, 112, 32), [], 2L * 112 * 112 * 32),
        // Squeeze (mean of the map), two 1x1 convolutions on the means, and the channel scaling: 2·(2·C·R) + H·W·C·2.
        new("se_28x28x240_r10", "efficientnetb0 block3b_se_* (squeeze to excite)",
            new SqueezeExcitationOp(10, ActivationFunction.Swish),
            [Nhwc(28, 28, 240)], Nhwc(28, 28, 240),
            [new TensorShape(1, 1, 240, 10), new TensorShape(10), new TensorShape(1, 1, 10, 240), new TensorShape(240)],
            2L * 28 * 28 * 240 + 4L * 240 * 10),
    ];

    /// <summary>The case named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No case has that name.</exception>
    public static OpCase Find(string name) => All.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"Unknown op case '{name}'; expected one of {string.Join(", ", All.Select(c => c.Name))}.");

    private static TensorShape Nhwc(int height, int width, int channels) => TensorShape.Nhwc(1, height, width, channels);

    private static OpCase Conv(string name, string layer, int height, int width, int inChannels, int filters, int kernel,
                               int stride, Padding padding, ActivationFunction activation)
    {
        var pads = Padding2D.Resolve(padding, height, width, kernel, kernel, stride, stride);
        int outH = Padding2D.OutputSize(height, pads.Top, pads.Bottom, kernel, stride);
        int outW = Padding2D.OutputSize(width, pads.Left, pads.Right, kernel, stride);
        var op = new Conv2DOp(kernel, kernel, stride, stride, 1, 1, pads, filters, UseBias: true, activation);
        return new(name, layer, op, [Nhwc(height, width, inChannels)], Nhwc(outH, outW, filters),
            [new TensorShape(kernel, kernel, inChannels, filters), new TensorShape(filters)],
            2L * outH * outW * filters * kernel * kernel * inChannels);
    }

    private static OpCase Depthwise(string name, string layer, int height, int width, int channels, int kernel, int stride,
                                    ActivationFunction activation)
    {
        // Keras pads stride-2 depthwise convolutions with a ZeroPadding2D (correct_pad); 'same' pads are the same cells.
        var pads = Padding2D.Resolve(Padding.Same, height, width, kernel, kernel, stride, stride);
        int outH = Padding2D.OutputSize(height, pads.Top, pads.Bottom, kernel, stride);
        int outW = Padding2D.OutputSize(width, pads.Left, pads.Right, kernel, stride);
        var op = new DepthwiseConv2DOp(kernel, kernel, stride, stride, 1, 1, pads, 1, UseBias: true, activation);
        return new(name, layer, op, [Nhwc(height, width, channels)], Nhwc(outH, outW, channels),
            [new TensorShape(kernel, kernel, channels, 1), new TensorShape(channels)],
            2L * outH * outW * channels * kernel * kernel);
    }
}
