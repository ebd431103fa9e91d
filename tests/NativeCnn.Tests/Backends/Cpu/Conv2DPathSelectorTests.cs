using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Ops;
using NativeCnn.Tensors;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu;

/// <summary>
/// The convolution path selector on the convolutions of ResNet50, MobileNetV2 and EfficientNet-B0 at 224x224 (as the
/// planner hands them over: ZeroPadding2D folded into the pads, SE excitations into input channel scales), pinned to
/// the paths they ran on before the paths became separate ops; and the op prepared on that path against the float64
/// reference on the layer's map with fewer channels.
/// </summary>
public class Conv2DPathSelectorTests
{
    // name, kernel, stride, pads (top, bottom, left, right), input h = w, input channels, filters, input channel scales, expected path
    public static TheoryData<string, int, int, string, int, int, int, bool, string> ModelConvolutions => new()
    {
        { "resnet50 conv1_conv (7x7/2 stem, conv1_pad folded)", 7, 2, "3,3,3,3", 224, 3, 64, false, "Windows" },
        { "resnet50 conv2_block1_1_conv", 1, 1, "0,0,0,0", 56, 64, 64, false, "Pointwise" },
        { "resnet50 conv2_block1_2_conv (3x3 on 56x56)", 3, 1, "1,1,1,1", 56, 64, 64, false, "Windows" },
        { "resnet50 conv3_block1_0_conv (1x1/2 projection shortcut)", 1, 2, "0,0,0,0", 56, 256, 512, false, "Windows" },
        { "resnet50 conv3_block1_1_conv (1x1/2)", 1, 2, "0,0,0,0", 56, 256, 128, false, "Windows" },
        { "resnet50 conv3_block1_2_conv (3x3 on 28x28)", 3, 1, "1,1,1,1", 28, 128, 128, false, "Winograd" },
        { "resnet50 conv4_block1_2_conv (3x3 on 14x14)", 3, 1, "1,1,1,1", 14, 256, 256, false, "Winograd" },
        { "resnet50 conv5_block1_0_conv (1x1/2 projection shortcut)", 1, 2, "0,0,0,0", 14, 1024, 2048, false, "Windows" },
        { "resnet50 conv5_block3_2_conv (3x3 on 7x7)", 3, 1, "1,1,1,1", 7, 512, 512, false, "Winograd" },
        { "mobilenetv2 Conv1 (3x3/2 stem, correct_pad folded)", 3, 2, "0,1,0,1", 224, 3, 32, false, "Windows" },
        { "mobilenetv2 block_1_expand", 1, 1, "0,0,0,0", 112, 16, 96, false, "Pointwise" },
        { "mobilenetv2 block_16_project", 1, 1, "0,0,0,0", 7, 960, 320, false, "Pointwise" },
        { "mobilenetv2 Conv_1", 1, 1, "0,0,0,0", 7, 320, 1280, false, "Pointwise" },
        { "efficientnetb0 stem_conv (3x3/2, correct_pad folded)", 3, 2, "0,1,0,1", 224, 3, 32, false, "Windows" },
        { "efficientnetb0 block2a_expand_conv", 1, 1, "0,0,0,0", 112, 16, 96, false, "Pointwise" },
        { "efficientnetb0 block2a_se_reduce", 1, 1, "0,0,0,0", 1, 96, 4, false, "Pointwise" },
        { "efficientnetb0 block2a_project_conv (SE excitation fused)", 1, 1, "0,0,0,0", 56, 96, 24, true, "Pointwise" },
        { "efficientnetb0 block6a_project_conv (SE excitation fused)", 1, 1, "0,0,0,0", 7, 672, 192, true, "Pointwise" },
        { "efficientnetb0 top_conv", 1, 1, "0,0,0,0", 7, 320, 1280, false, "Pointwise" },
    };

    [Theory]
    [MemberData(nameof(ModelConvolutions))]
    public void PicksTodaysPathAndItsOpMatchesTheReference(string layer, int kernelSize, int stride, string pads, int size, int channels,
                                                           int filters, bool scalesInput, string expected)
    {
        var pad = pads.Split(',').Select(int.Parse).ToArray();
        var padding = new Padding2D(pad[0], pad[1], pad[2], pad[3]);
        int outSize = ReferenceConvolution.OutputSize(size, kernelSize, stride, 1, pad[0], pad[1]);
        var op = new Conv2DOp(kernelSize, kernelSize, stride, stride, 1, 1, padding, filters, UseBias: true, ActivationFunction.Swish,
                              ScalesInputChannels: scalesInput);
        var choice = Conv2DPathSelector.Choose(op, TensorShape.Nhwc(1, outSize, outSize, filters));
        Assert.True(Enum.Parse<Conv2DPath>(expected) == choice.Path, $"{layer}: {choice}");
        Assert.False(string.IsNullOrWhiteSpace(choice.Reason));

        // The same map and window with at most 24 channels in and out, so the float64 reference stays quick.
        int c = Math.Min(channels, 24), f = Math.Min(filters, 24);
        var small = op with { Filters = f };
        var input = TestData.Uniform(61, size * size * c);
        var kernel = TestData.Uniform(62, kernelSize * kernelSize * c * f);
        var bias = TestData.Uniform(63, f);
        var scales = TestData.Uniform(64, c, 0f, 1f);
        var scaledInput = scalesInput ? input.Select((v, i) => v * scales[i % c]).ToArray() : input;
        var expectedOutput = ReferenceConvolution.Conv2D(scaledInput, kernel, bias, 1, size, size, c, outSize, outSize, f,
            kernelSize, kernelSize, stride, stride, 1, 1, pad[0], pad[2], ReferenceActivation.Swish);
        using var x = Tensor.FromArray(input, TensorShape.Nhwc(1, size, size, c));
        using var s = Tensor.FromArray(scales, TensorShape.Nhwc(1, 1, 1, c));
        using var y = new Tensor(TensorShape.Nhwc(1, outSize, outSize, f));
        using var w = Tensor.FromArray(kernel, new TensorShape(kernelSize, kernelSize, c, f));
        using var b = Tensor.FromArray(bias, new TensorShape(f));
        using var pool = new WorkerPool(threadCount: 2);
        using var prepared = CpuConv2D.Create(small, new OpBinding(layer, scalesInput ? [new HostBuffer(x), new HostBuffer(s)] : [new HostBuffer(x)], new HostBuffer(y), [w, b]), pool);
        Assert.Equal(choice.Path, prepared.Path);
        prepared.Run();
        Precision.AssertClose(expectedOutput, y.Span, scale: Math.Sqrt(kernelSize * kernelSize * c), what: layer);
    }

    [Fact]
    public void WindowsDilatedAlongTheWidthGatherPatches()
    {
        var op = new Conv2DOp(3, 3, 1, 1, 1, 2, new Padding2D(1, 1, 2, 2), 16, UseBias: false, ActivationFunction.Linear);
        Assert.Equal(Conv2DPath.ImplicitGemm, Conv2DPathSelector.Choose(op, TensorShape.Nhwc(1, 14, 14, 16)).Path);
        // Dilated along the height only, the windows are still contiguous rows.
        Assert.Equal(Conv2DPath.Windows, Conv2DPathSelector.Choose(op with { DilationHeight = 2, DilationWidth = 1 }, TensorShape.Nhwc(1, 14, 14, 16)).Path);
    }
}
