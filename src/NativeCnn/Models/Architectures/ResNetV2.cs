using NativeCnn.Weights.Pretrained;
using NativeCnn.Backends;
using NativeCnn.Layers;

namespace NativeCnn.Models.Architectures;

/// <summary>
/// Keras <c>keras.applications.ResNet50V2/101V2/152V2</c> (<c>keras/src/applications/resnet_v2.py</c>, built by
/// <c>resnet.py</c>'s <c>ResNet(preact=True)</c> with <c>stack_residual_blocks_v2</c>): the pre-activation ResNet, with
/// BatchNormalization and ReLU before each block's convolutions and a <c>post_bn</c> / <c>post_relu</c> after the last
/// stage. The model expects RGB scaled to [-1, 1] ("tf" preprocessing).
/// </summary>
/// <remarks>
/// Each stage downsamples in its <em>last</em> block (stride 2 on the 3×3 <c>_2_conv</c>, with an explicit
/// <c>_2_pad</c>), and that block's identity shortcut is a 1×1 stride-2 max pooling that Keras leaves unnamed
/// (<c>max_pooling2d</c>, <c>max_pooling2d_1</c>, <c>max_pooling2d_2</c> in a fresh session). The stem has no
/// BatchNormalization, so <c>pool1_pool</c> takes the maximum over raw convolution outputs and zero padding.
/// </remarks>
public static class ResNetV2
{
    /// <summary>ResNet50V2: blocks 3, 4, 6, 3.</summary>
    public static Model ResNet50V2(ApplicationOptions? options = null) => Create("resnet50v2", [3, 4, 6, 3], options);

    /// <summary>ResNet101V2: blocks 3, 4, 23, 3.</summary>
    public static Model ResNet101V2(ApplicationOptions? options = null) => Create("resnet101v2", [3, 4, 23, 3], options);

    /// <summary>ResNet152V2: blocks 3, 8, 36, 3.</summary>
    public static Model ResNet152V2(ApplicationOptions? options = null) => Create("resnet152v2", [3, 8, 36, 3], options);

    /// <summary>Builds a ResNet v2 with <paramref name="blocksPerStage"/> pre-activation bottleneck blocks in stages conv2…conv5.</summary>
    /// <exception cref="ArgumentException">The stages or the options are invalid.</exception>
    public static Model Create(string name, IReadOnlyList<int> blocksPerStage, ApplicationOptions? options = null) =>
        // A stage's first block has the conv shortcut and its last block the stride, so a stage needs two blocks.
        ResNet.Build(name, "ResNetV2", blocksPerStage, minimumBlocks: 2, preact: true, options, x =>
        {
            var names = new KerasAutoNames();
            x = Stack(x, 64, blocksPerStage[0], 2, "conv2", names);
            x = Stack(x, 128, blocksPerStage[1], 2, "conv3", names);
            x = Stack(x, 256, blocksPerStage[2], 2, "conv4", names);
            return Stack(x, 512, blocksPerStage[3], 1, "conv5", names);
        });

    // Keras's stack_residual_blocks_v2: conv shortcut in block1, the stride in the last block.
    private static Node Stack(Node x, int filters, int blocks, int stride1, string name, KerasAutoNames names)
    {
        x = Block(x, filters, 1, convShortcut: true, $"{name}_block1", names);
        for (int i = 2; i < blocks; i++) x = Block(x, filters, 1, convShortcut: false, $"{name}_block{i}", names);
        return Block(x, filters, stride1, convShortcut: false, $"{name}_block{blocks}", names);
    }

    // Keras's residual_block_v2.
    private static Node Block(Node input, int filters, int stride, bool convShortcut, string name, KerasAutoNames names)
    {
        var preact = new BatchNormalization(name + "_preact_bn", ResNet.BatchNormEpsilon).Call(input);
        preact = ApplicationLayers.Activate(preact, name + "_preact_relu", ActivationFunction.Relu);

        var x = new Conv2D(name + "_1_conv", filters, 1, 1, useBias: false).Call(preact);
        x = new BatchNormalization(name + "_1_bn", ResNet.BatchNormEpsilon).Call(x);
        x = ApplicationLayers.Activate(x, name + "_1_relu", ActivationFunction.Relu);
        x = new ZeroPadding2D(name + "_2_pad", 1).Call(x);
        x = new Conv2D(name + "_2_conv", filters, 3, stride, useBias: false).Call(x);
        x = new BatchNormalization(name + "_2_bn", ResNet.BatchNormEpsilon).Call(x);
        x = ApplicationLayers.Activate(x, name + "_2_relu", ActivationFunction.Relu);

        // The conv shortcut reads the pre-activation; the identity shortcut the raw block input. Keras creates the
        // shortcut first, but model.layers (sorted by graph depth) lists it just before _3_conv, as it is created here,
        // so summaries and order-based weight loading line up with Keras.
        Node shortcut;
        if (convShortcut) shortcut = new Conv2D(name + "_0_conv", 4 * filters, 1, stride).Call(preact);
        else if (stride > 1) shortcut = new MaxPooling2D(names.Next("max_pooling2d"), 1, stride).Call(input);
        else shortcut = input;
        // The last 1×1 has a bias and no BatchNormalization: the next block's preact_bn (or post_bn) follows the add.
        x = new Conv2D(name + "_3_conv", 4 * filters, 1).Call(x);
        return new Add(name + "_out").Call(shortcut, x);
    }
}
