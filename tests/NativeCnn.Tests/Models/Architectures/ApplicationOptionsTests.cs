using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Tests.Models.Architectures;

/// <summary>Options, validation, headless models, pooling and the Keras details (padding, names, constants) of the builders.</summary>
public sealed class ApplicationOptionsTests
{
    [Fact]
    public void DefaultsAreKeras()
    {
        var options = new ApplicationOptions();
        Assert.True(options.IncludeTop);
        Assert.Equal(GlobalPooling.None, options.Pooling);
        Assert.Equal(1000, options.Classes);
        Assert.Equal("softmax", options.ClassifierActivation);
        Assert.True(options.IncludePreprocessing);
        Assert.Equal(1.0, options.Alpha);
        Assert.Null(options.Resolution);
        Assert.Equal(3, options.InputChannels);
    }

    // Weights do not depend on the resolution, so headless counts are checked at 64×64 (fast shape inference, same weights).
    [Theory]
    [InlineData("efficientnet-b0", GlobalPooling.None, "top_activation", "(None, 2, 2, 1280)", 4_049_571)]
    [InlineData("efficientnet-b0", GlobalPooling.Average, "avg_pool", "(None, 1280)", 4_049_571)]
    [InlineData("efficientnet-b0", GlobalPooling.Max, "max_pool", "(None, 1280)", 4_049_571)]
    [InlineData("mobilenetv2", GlobalPooling.None, "out_relu", "(None, 2, 2, 1280)", 2_257_984)]
    [InlineData("mobilenetv2", GlobalPooling.Average, "global_average_pooling2d", "(None, 1280)", 2_257_984)]
    [InlineData("mobilenetv2", GlobalPooling.Max, "global_max_pooling2d", "(None, 1280)", 2_257_984)]
    [InlineData("resnet50", GlobalPooling.Max, "max_pool", "(None, 2048)", 23_587_712)]
    public void WithoutTopTheModelEndsWithTheRequestedPooling(string name, GlobalPooling pooling, string lastLayer, string shape, long parameters)
    {
        using var model = ModelZoo.Create(name, new ApplicationOptions { IncludeTop = false, Pooling = pooling, Resolution = 64 });
        Assert.Equal(lastLayer, model.Output.Name);
        Assert.Equal(shape, model.Output.OutputShape.ToKerasString());
        Assert.Equal(parameters, model.ParameterCount);
        Assert.DoesNotContain(model.Layers, l => l.Name == "predictions");
    }

    // One block per stage keeps the ResNet builds cheap (building seeds every weight); the head is the same code.
    [Theory]
    [InlineData(GlobalPooling.None, "conv5_block1_out", "(None, 2, 2, 2048)")]
    [InlineData(GlobalPooling.Average, "avg_pool", "(None, 2048)")]
    public void ResNetWithoutTopEndsWithTheRequestedPooling(GlobalPooling pooling, string lastLayer, string shape)
    {
        using var model = ResNet.Create("resnet_small", [1, 1, 1, 1], new ApplicationOptions { IncludeTop = false, Pooling = pooling, Resolution = 64 });
        Assert.Equal(lastLayer, model.Output.Name);
        Assert.Equal(shape, model.Output.OutputShape.ToKerasString());
    }

    [Fact]
    public void WithTopThePoolingOptionIsIgnoredAsInKeras()
    {
        using var model = MobileNetV2.Create(new ApplicationOptions { Pooling = GlobalPooling.Max, Resolution = 64 });
        Assert.Equal("predictions", model.Output.Name);
        Assert.DoesNotContain(model.Layers, l => l.Name == "global_max_pooling2d");
    }

    [Fact]
    public void ClassesAndClassifierActivationShapeThePredictions()
    {
        using var model = EfficientNet.B0(new ApplicationOptions { Classes = 10, ClassifierActivation = null, Resolution = 64 });
        var predictions = (Dense)model.GetLayer("predictions");
        Assert.Equal(10, predictions.Units);
        Assert.Equal(ActivationKind.Linear, predictions.Activation.Kind);
        Assert.Equal("(None, 10)", model.Output.OutputShape.ToKerasString());
        using var softmax = MobileNetV2.Create(new ApplicationOptions { Resolution = 32 });
        Assert.Equal(ActivationKind.Softmax, ((Dense)softmax.GetLayer("predictions")).Activation.Kind);
    }

    [Theory]
    [InlineData(0, 224)]
    [InlineData(1, 240)]
    [InlineData(2, 260)]
    [InlineData(3, 300)]
    [InlineData(4, 380)]
    [InlineData(5, 456)]
    [InlineData(6, 528)]
    [InlineData(7, 600)]
    public void EfficientNetVariantsHaveKerasDefaults(int index, int resolution)
    {
        var variant = EfficientNetVariant.Standard[index];
        Assert.Equal($"efficientnetb{index}", variant.Name);
        Assert.Equal(resolution, variant.Resolution);
        Assert.Contains($"efficientnet-b{index}", ModelZoo.Names);
    }

    [Fact]
    public void EfficientNetB0InputAndStageSizesFollowTheResolution()
    {
        using var model = EfficientNet.B0();
        Assert.Equal("(None, 224, 224, 3)", model.Input.OutputShape.ToKerasString());
        using var small = EfficientNet.B0(new ApplicationOptions { Resolution = 97 });
        Assert.Equal("(None, 97, 97, 3)", small.Input.OutputShape.ToKerasString());
        Assert.Equal("efficientnetb0", small.Name);
    }

    // B0's stages at 260 (B2's default) have the odd sizes 65, 33, 17 and 9, so correct_pad takes both branches.
    [Theory]
    [InlineData("stem_conv_pad", 0, 1, "(None, 261, 261, 3)")]
    [InlineData("block2a_dwconv_pad", 0, 1, "(None, 131, 131, 96)")]
    [InlineData("block3a_dwconv_pad", 2, 2, "(None, 69, 69, 144)")]
    [InlineData("block4a_dwconv_pad", 1, 1, "(None, 35, 35, 240)")]
    [InlineData("block6a_dwconv_pad", 2, 2, "(None, 21, 21, 672)")]
    public void EfficientNetPadsLikeCorrectPad(string layer, int before, int after, string shape)
    {
        using var model = EfficientNet.B0(new ApplicationOptions { Resolution = 260 });
        var pad = (ZeroPadding2D)model.GetLayer(layer);
        Assert.Equal(new Padding2D(before, after, before, after), pad.Padding);
        Assert.Equal(shape, model.Nodes.Single(n => n.Name == layer).OutputShape.ToKerasString());
        Assert.Equal("(None, 9, 9, 1280)", model.Nodes.Single(n => n.Name == "top_activation").OutputShape.ToKerasString());
    }

    [Fact]
    public void EfficientNetStemHoldsKerasImageNetConstants()
    {
        using var model = EfficientNet.B0(new ApplicationOptions { Resolution = 32 });
        Assert.Equal(["input_layer", "rescaling", "normalization", "rescaling_1", "stem_conv_pad"], model.Layers.Take(5).Select(l => l.Name));
        Assert.Equal(0x3b808081, BitConverter.SingleToInt32Bits(((Rescaling)model.GetLayer("rescaling")).Scale[0]));
        Assert.Equal([0x4005bd83, 0x40073985, 0x4006ec81], ((Rescaling)model.GetLayer("rescaling_1")).Scale.Select(BitConverter.SingleToInt32Bits));
        var normalization = model.GetLayer("normalization");
        Assert.Equal([0.485f, 0.456f, 0.406f], normalization.GetWeight("mean").Value.Span.ToArray());
        Assert.Equal([0.229f, 0.224f, 0.225f], normalization.GetWeight("variance").Value.Span.ToArray());
        Assert.Equal(1e-3, ((BatchNormalization)model.GetLayer("stem_bn")).Epsilon);
    }

    [Fact]
    public void EfficientNetWithoutPreprocessingStartsAtTheStem()
    {
        using var model = EfficientNet.B0(new ApplicationOptions { IncludePreprocessing = false, InputChannels = 1, Resolution = 32 });
        Assert.Equal(["input_layer", "stem_conv_pad"], model.Layers.Take(2).Select(l => l.Name));
        Assert.Equal(5_330_571 - 7 - 2 * 3 * 3 * 32, model.ParameterCount);
    }

    [Fact]
    public void EfficientNetDropoutRatesAreKeras()
    {
        using var model = EfficientNet.B0(new ApplicationOptions { Resolution = 32 });
        // drop_connect_rate · b / blocks with b the global block index: block2b is b = 2 of 16.
        Assert.Equal(0.2 * 2 / 16, ((Dropout)model.GetLayer("block2b_drop")).Rate, 12);
        Assert.Equal(0.2 * 14 / 16, ((Dropout)model.GetLayer("block6d_drop")).Rate, 12);
        Assert.Equal(0.2, ((Dropout)model.GetLayer("top_dropout")).Rate);
        Assert.DoesNotContain(model.Layers, l => l.Name is "block1a_drop" or "block7a_drop");
    }

    [Theory]
    [InlineData(32, 1.0, 32)]
    [InlineData(32, 1.1, 32)]
    [InlineData(32, 1.2, 40)]
    [InlineData(16, 1.2, 24)]
    [InlineData(1280, 1.1, 1408)]
    [InlineData(320, 1.4, 448)]
    [InlineData(1280, 2.0, 2560)]
    public void RoundFiltersIsKeras(int filters, double width, int expected) =>
        Assert.Equal(expected, EfficientNet.RoundFilters(filters, width));

    [Theory]
    [InlineData(3, 1.4, 5)]
    [InlineData(3, 2.2, 7)]
    [InlineData(1, 3.1, 4)]
    [InlineData(4, 1.0, 4)]
    public void RoundRepeatsIsKeras(int repeats, double depth, int expected) =>
        Assert.Equal(expected, EfficientNet.RoundRepeats(repeats, depth));

    [Theory]
    [InlineData(32 * 0.35, 16)]
    [InlineData(1280 * 1.3, 1664)]
    [InlineData(1280 * 1.4, 1792)]
    [InlineData(3, 8)]
    [InlineData(11, 16)]
    public void MakeDivisibleIsKeras(double value, int expected) => Assert.Equal(expected, MobileNetV2.MakeDivisible(value));

    [Fact]
    public void CustomEfficientNetVariantsBuild()
    {
        using var model = EfficientNet.Create(new EfficientNetVariant("efficientnet_tiny", 0.5, 0.5, 64, 0.1), new ApplicationOptions { Classes = 5 });
        Assert.Equal("efficientnet_tiny", model.Name);
        Assert.Equal(16, ((Conv2D)model.GetLayer("stem_conv")).Filters);
        Assert.Equal("(None, 64, 64, 3)", model.Input.OutputShape.ToKerasString());
        Assert.Equal(0.1, ((Dropout)model.GetLayer("top_dropout")).Rate);
    }

    [Theory]
    [InlineData(1.0, 224, "mobilenetv2_1.00_224")]
    [InlineData(0.35, 96, "mobilenetv2_0.35_96")]
    [InlineData(1.3, 160, "mobilenetv2_1.30_160")]
    public void MobileNetV2IsNamedAsKeras(double alpha, int resolution, string name)
    {
        using var model = MobileNetV2.Create(new ApplicationOptions { Alpha = alpha, Resolution = resolution });
        Assert.Equal(name, model.Name);
        Assert.Equal(new Padding2D(0, 1, 0, 1), ((ZeroPadding2D)model.GetLayer("block_1_pad")).Padding);
        Assert.Equal(6f, ((ReLU)model.GetLayer("Conv1_relu")).MaxValue);
        Assert.Equal(Padding.Same, ((Conv2D)model.GetLayer("Conv1")).Padding);
    }

    [Fact]
    public void ResNetUsesKerasV1Details()
    {
        using var model = ResNet.ResNet50(new ApplicationOptions { Resolution = 64 });
        Assert.Equal(new Padding2D(3, 3, 3, 3), ((ZeroPadding2D)model.GetLayer("conv1_pad")).Padding);
        Assert.Equal(new Padding2D(1, 1, 1, 1), ((ZeroPadding2D)model.GetLayer("pool1_pad")).Padding);
        Assert.All(model.Layers.OfType<BatchNormalization>(), bn => Assert.Equal(1.001e-5, bn.Epsilon));
        Assert.All(model.Layers.OfType<Conv2D>(), conv => Assert.True(conv.UseBias, conv.Name));
        Assert.Equal((2, 2), ((Conv2D)model.GetLayer("conv3_block1_1_conv")).Strides);
        Assert.Equal((1, 1), ((Conv2D)model.GetLayer("conv3_block1_2_conv")).Strides);
    }

    [Fact]
    public void ZooNamesAreTheTwelveArchitectures()
    {
        Assert.Equal(["resnet50", "resnet101", "resnet152", "mobilenetv2", "efficientnet-b0", "efficientnet-b1", "efficientnet-b2",
                      "efficientnet-b3", "efficientnet-b4", "efficientnet-b5", "efficientnet-b6", "efficientnet-b7"], ModelZoo.Names.Take(12));
        using var model = ModelZoo.Create("MobileNetV2", new ApplicationOptions { Resolution = 32 });
        Assert.Equal("mobilenetv2_1.00_32", model.Name);
    }

    public static TheoryData<string, ApplicationOptions, string> BadOptions => new()
    {
        { "mobilenetv2", new ApplicationOptions { Alpha = 0.6 }, "alpha" },
        { "mobilenetv2", new ApplicationOptions { Resolution = 31 }, "at least 32" },
        { "resnet50", new ApplicationOptions { Resolution = 0 }, "at least 32" },
        { "efficientnet-b0", new ApplicationOptions { Classes = 0 }, "Classes" },
        { "efficientnet-b0", new ApplicationOptions { InputChannels = 0 }, "InputChannels" },
        { "efficientnet-b0", new ApplicationOptions { InputChannels = 1 }, "IncludePreprocessing" },
        { "resnet50", new ApplicationOptions { ClassifierActivation = "gelu" }, "gelu" },
        { "resnet50", new ApplicationOptions { Pooling = (GlobalPooling)7 }, "Pooling" },
        { "vgg16", new ApplicationOptions(), "efficientnet-b7" },
        { "resnet50", new ApplicationOptions { Alpha = 0.5 }, "MobileNetV2 only" },
        { "efficientnet-b1", new ApplicationOptions { Alpha = 1.4 }, "MobileNetV2 only" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadOptionsThrowClearArgumentExceptions(string name, ApplicationOptions options, string message)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => ModelZoo.Create(name, options));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void BadEfficientNetVariantsAreRejected()
    {
        Assert.Contains("width", Assert.Throws<ArgumentException>(() => EfficientNet.Create(EfficientNetVariant.B0 with { Width = 0 })).Message);
        Assert.Contains("dropout", Assert.Throws<ArgumentException>(() => EfficientNet.Create(EfficientNetVariant.B0 with { Dropout = 1 })).Message);
        Assert.Throws<ArgumentException>(() => EfficientNet.Create(EfficientNetVariant.B0, [EfficientNet.DefaultBlocks[0] with { Strides = 3 }]));
        Assert.Throws<ArgumentException>(() => ResNet.Create("resnet_bad", [3, 4, 6]));
    }
}
