using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Weights.Pretrained;

namespace NativeCnn.Models.Architectures;

/// <summary>
/// Keras <c>keras.applications.ResNet50/101/152</c> (v1, <c>keras/src/applications/resnet.py</c>): the original ResNet
/// with the stride on each stage's first 1×1 conv, biased convs and BatchNormalization epsilon 1.001e-5. The model
/// expects "caffe" preprocessing (BGR, ImageNet mean subtracted, no scaling).
/// </summary>
public static class ResNet
{
    /// <summary>Epsilon of every BatchNormalization in Keras's ResNet.</summary>
    public const double BatchNormEpsilon = 1.001e-5;

    private const int DefaultResolution = 224;

    /// <summary>ResNet50: blocks 3, 4, 6, 3.</summary>
    public static Model ResNet50(ApplicationOptions? options = null) => Create("resnet50", [3, 4, 6, 3], options);

    /// <summary>ResNet101: blocks 3, 4, 23, 3.</summary>
    public static Model ResNet101(ApplicationOptions? options = null) => Create("resnet101", [3, 4, 23, 3], options);

    /// <summary>ResNet152: blocks 3, 8, 36, 3.</summary>
    public static Model ResNet152(ApplicationOptions? options = null) => Create("resnet152", [3, 8, 36, 3], options);

    /// <summary>Builds a ResNet v1 with <paramref name="blocksPerStage"/> bottleneck blocks in stages conv2…conv5.</summary>
    /// <exception cref="ArgumentException">The stages or the options are invalid.</exception>
    public static Model Create(string name, IReadOnlyList<int> blocksPerStage, ApplicationOptions? options = null) =>
        Build(name, "ResNet", blocksPerStage, minimumBlocks: 1, preact: false, options, x =>
        {
            x = Stack(x, 64, blocksPerStage[0], 1, "conv2");
            x = Stack(x, 128, blocksPerStage[1], 2, "conv3");
            x = Stack(x, 256, blocksPerStage[2], 2, "conv4");
            return Stack(x, 512, blocksPerStage[3], 2, "conv5");
        });

    // Keras's ResNet(stack_fn, preact, ...), which builds both v1 and v2: the stem (with conv1_bn / conv1_relu unless
    // preact), the stacks, post_bn / post_relu when preact, then the top.
    internal static Model Build(string name, string family, IReadOnlyList<int> blocksPerStage, int minimumBlocks, bool preact,
                                ApplicationOptions? options, Func<Node, Node> stacks)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(blocksPerStage);
        if (blocksPerStage.Count != 4 || blocksPerStage.Any(b => b < minimumBlocks))
            throw new ArgumentException($"{name}: {family} needs four stages of at least {(minimumBlocks == 1 ? "one block" : "two blocks")}, got [{string.Join(", ", blocksPerStage)}].", nameof(blocksPerStage));
        options ??= new ApplicationOptions();
        options.Validate();
        options.RejectAlpha(name);

        var input = ApplicationLayers.Input(options, options.ResolutionOr(DefaultResolution));
        var x = new ZeroPadding2D("conv1_pad", 3).Call(input);
        x = new Conv2D("conv1_conv", 64, 7, 2).Call(x);
        if (!preact)
        {
            x = new BatchNormalization("conv1_bn", BatchNormEpsilon).Call(x);
            x = ApplicationLayers.Activate(x, "conv1_relu", ActivationFunction.Relu);
        }
        x = new ZeroPadding2D("pool1_pad", 1).Call(x);
        x = new MaxPooling2D("pool1_pool", 3, 2).Call(x);

        x = stacks(x);

        if (preact)
        {
            x = new BatchNormalization("post_bn", BatchNormEpsilon).Call(x);
            x = ApplicationLayers.Activate(x, "post_relu", ActivationFunction.Relu);
        }
        x = ApplicationLayers.Top(x, options, "avg_pool", "max_pool");
        return ApplicationWeights.Load(new Model(name, input, x), options);
    }

    private static Node Stack(Node x, int filters, int blocks, int stride1, string name)
    {
        x = Block(x, filters, stride1, convShortcut: true, $"{name}_block1");
        for (int i = 2; i <= blocks; i++) x = Block(x, filters, 1, convShortcut: false, $"{name}_block{i}");
        return x;
    }

    // Keras's residual_block_v1. The layers are created in the order Keras's model.layers lists them (sorted by graph
    // depth): the shortcut conv and BN interleave with the last conv and BN, so summaries and order-based weight loading
    // line up with Keras.
    private static Node Block(Node input, int filters, int stride, bool convShortcut, string name)
    {
        // v1: the stride sits on the first 1×1 conv, not on the 3×3.
        var x = new Conv2D(name + "_1_conv", filters, 1, stride).Call(input);
        x = new BatchNormalization(name + "_1_bn", BatchNormEpsilon).Call(x);
        x = ApplicationLayers.Activate(x, name + "_1_relu", ActivationFunction.Relu);
        x = new Conv2D(name + "_2_conv", filters, 3, 1, Padding.Same).Call(x);
        x = new BatchNormalization(name + "_2_bn", BatchNormEpsilon).Call(x);
        x = ApplicationLayers.Activate(x, name + "_2_relu", ActivationFunction.Relu);

        var shortcut = input;
        if (convShortcut) shortcut = new Conv2D(name + "_0_conv", 4 * filters, 1, stride).Call(input);
        x = new Conv2D(name + "_3_conv", 4 * filters, 1).Call(x);
        if (convShortcut) shortcut = new BatchNormalization(name + "_0_bn", BatchNormEpsilon).Call(shortcut);
        x = new BatchNormalization(name + "_3_bn", BatchNormEpsilon).Call(x);
        x = new Add(name + "_add").Call(shortcut, x);
        return ApplicationLayers.Activate(x, name + "_out", ActivationFunction.Relu);
    }
}
