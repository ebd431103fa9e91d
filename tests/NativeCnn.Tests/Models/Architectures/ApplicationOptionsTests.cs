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
        Assert.Equal(1, options.DepthMultiplier);
        Assert.False(options.Minimalistic);
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
    [InlineData("resnet50v2", GlobalPooling.None, "post_relu", "(None, 2, 2, 2048)", 23_564_800)]
    [InlineData("mobilenet", GlobalPooling.None, "conv_pw_13_relu", "(None, 2, 2, 1024)", 3_228_864)]
    [InlineData("mobilenet", GlobalPooling.Average, "global_average_pooling2d", "(None, 1024)", 3_228_864)]
    [InlineData("mobilenet", GlobalPooling.Max, "global_max_pooling2d", "(None, 1024)", 3_228_864)]
    [InlineData("mobilenetv3small", GlobalPooling.None, "activation_17", "(None, 2, 2, 576)", 939_120)]
    [InlineData("mobilenetv3small", GlobalPooling.Average, "avg_pool", "(None, 576)", 939_120)]
    [InlineData("mobilenetv3large", GlobalPooling.Max, "max_pool", "(None, 960)", 2_996_352)]
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
    public void ZooNamesAreTheEighteenArchitectures()
    {
        Assert.Equal(["resnet50", "resnet101", "resnet152", "resnet50v2", "resnet101v2", "resnet152v2", "mobilenet", "mobilenetv2",
                      "mobilenetv3small", "mobilenetv3large", "efficientnet-b0", "efficientnet-b1", "efficientnet-b2",
                      "efficientnet-b3", "efficientnet-b4", "efficientnet-b5", "efficientnet-b6", "efficientnet-b7", "efficientnetv2-b0",
                      "efficientnetv2-b1", "efficientnetv2-b2", "efficientnetv2-b3", "efficientnetv2-s", "efficientnetv2-m", "efficientnetv2-l"], ModelZoo.Names);
        using var model = ModelZoo.Create("MobileNetV2", new ApplicationOptions { Resolution = 32 });
        Assert.Equal("mobilenetv2_1.00_32", model.Name);
    }

    // Keras's function names and the names of the models they build resolve to the builder, so a model's name builds it again.
    [Theory]
    [InlineData("MobileNet", "mobilenet", null, null)]
    [InlineData("mobilenet_0.25_128", "mobilenet", 0.25, 128)]
    [InlineData("mobilenet_v2_0.35_96", "mobilenetv2", 0.35, 96)]
    [InlineData("ResNet50V2", "resnet50v2", null, null)]
    [InlineData("resnet152_v2", "resnet152v2", null, null)]
    [InlineData("MobileNetV3Small", "mobilenetv3small", null, null)]
    [InlineData("mobilenet_v3_large", "mobilenetv3large", null, null)]
    public void KerasNamesResolve(string name, string canonical, double? alpha, int? resolution)
    {
        Assert.True(ModelZoo.TryResolve(name, out string actual, out double? actualAlpha, out int? actualResolution));
        Assert.Equal(canonical, actual);
        Assert.Equal(alpha, actualAlpha);
        Assert.Equal(resolution, actualResolution);
    }

    [Theory]
    [InlineData("mobilenet_0.50_96", "mobilenet", 0.5, 96)]
    [InlineData("resnet101v2", "resnet101v2", 1.0, 64)]
    [InlineData("MobileNetV3Small", "mobilenetv3small", 0.75, 64)]
    [InlineData("MobileNetV3Large", "mobilenetv3large", 1.0, 64)]
    public void NewFamiliesAreNamedAsKerasAndTheNameBuildsThemAgain(string modelName, string architecture, double alpha, int resolution)
    {
        var options = new ApplicationOptions { Alpha = alpha, Resolution = resolution };
        using var model = ModelZoo.Create(architecture, options);
        Assert.Equal(modelName, model.Name);
        using var again = ModelZoo.Create(model.Name, architecture == "mobilenet" ? new ApplicationOptions() : options);
        Assert.Equal(model.ParameterCount, again.ParameterCount);
        Assert.Equal(model.Output.OutputShape, again.Output.OutputShape);
    }

    [Fact]
    public void MobileNetUsesKerasDetails()
    {
        using var model = MobileNet.Create(new ApplicationOptions { Resolution = 96, DepthMultiplier = 2 });
        // Stride-2 blocks pad ((0, 1), (0, 1)), not correct_pad; blocks 2, 4, 6 and 12 downsample.
        Assert.Equal(["conv_pad_2", "conv_pad_4", "conv_pad_6", "conv_pad_12"], model.Layers.OfType<ZeroPadding2D>().Select(p => p.Name));
        Assert.All(model.Layers.OfType<ZeroPadding2D>(), p => Assert.Equal(new Padding2D(0, 1, 0, 1), p.Padding));
        Assert.All(model.Layers.OfType<DepthwiseConv2D>(), d => Assert.Equal(2, d.DepthMultiplier));
        Assert.All(model.Layers.OfType<BatchNormalization>(), bn => Assert.Equal(1e-3, bn.Epsilon));
        Assert.All(model.Layers.OfType<ReLU>(), r => Assert.Equal(6f, r.MaxValue));
        Assert.Equal((2, 2), ((DepthwiseConv2D)model.GetLayer("conv_dw_2")).Strides);
        Assert.Equal(Padding.Same, ((Conv2D)model.GetLayer("conv1")).Padding);
        // The top is a 1×1 conv on the kept-dims average, reshaped, then the activation layer.
        Assert.True(((GlobalAveragePooling2D)model.GetLayer("global_average_pooling2d")).KeepDims);
        Assert.Equal(1e-3, ((Dropout)model.GetLayer("dropout")).Rate);
        var rows = model.Summary().Rows;
        Assert.Equal("(None, 1, 1, 1000)", rows.Single(r => r.Name == "conv_preds").OutputShape);
        Assert.Equal(["reshape_2", "predictions"], model.Layers.TakeLast(2).Select(l => l.Name));
        Assert.Equal(ActivationKind.Softmax, ((Activation)model.GetLayer("predictions")).Function.Kind);
    }

    [Fact]
    public void ResNetV2UsesKerasPreactivationDetails()
    {
        using var model = ResNetV2.ResNet50V2(new ApplicationOptions { Resolution = 64 });
        Assert.DoesNotContain(model.Layers, l => l.Name is "conv1_bn" or "conv1_relu");
        Assert.All(model.Layers.OfType<BatchNormalization>(), bn => Assert.Equal(1.001e-5, bn.Epsilon));
        // Downsampling at the end of conv2..conv4, on the 3×3 with an explicit pad; the shortcut is an unnamed 1×1 max pooling.
        Assert.Equal((2, 2), ((Conv2D)model.GetLayer("conv2_block3_2_conv")).Strides);
        Assert.Equal((1, 1), ((Conv2D)model.GetLayer("conv2_block1_2_conv")).Strides);
        Assert.Equal((1, 1), ((Conv2D)model.GetLayer("conv5_block3_2_conv")).Strides);
        Assert.Equal(["max_pooling2d", "max_pooling2d_1", "max_pooling2d_2"],
                     model.Layers.OfType<MaxPooling2D>().Where(p => p.Name != "pool1_pool").Select(p => p.Name));
        Assert.False(((Conv2D)model.GetLayer("conv3_block1_1_conv")).UseBias);
        Assert.False(((Conv2D)model.GetLayer("conv3_block1_2_conv")).UseBias);
        Assert.True(((Conv2D)model.GetLayer("conv3_block1_3_conv")).UseBias);
        Assert.True(((Conv2D)model.GetLayer("conv3_block1_0_conv")).UseBias);
        // The conv shortcut reads the pre-activation, the identity shortcut the raw block input.
        var rows = model.Summary().Rows;
        Assert.Equal(["conv3_block1_preact_relu"], rows.Single(r => r.Name == "conv3_block1_0_conv").ConnectedTo);
        Assert.Equal(["conv3_block1_out", "conv3_block2_3_conv"], rows.Single(r => r.Name == "conv3_block2_out").ConnectedTo);
        Assert.Equal(["conv3_block3_out"], rows.Single(r => r.Name == "max_pooling2d_1").ConnectedTo);
        Assert.Equal(["post_bn", "post_relu", "avg_pool", "predictions"], model.Layers.TakeLast(4).Select(l => l.Name));
    }

    [Fact]
    public void MobileNetV3UsesKerasDetails()
    {
        using var model = MobileNetV3.Small(new ApplicationOptions { Resolution = 112 });
        var rescaling = (Rescaling)model.GetLayer("rescaling");
        Assert.Equal([(float)(1 / 127.5)], rescaling.Scale);
        Assert.Equal([-1f], rescaling.Offset);
        // The first SE gate: hard_sigmoid = ReLU(6)(x + 3) * (1/6) as add, re_lu_1 and multiply (re_lu is block 0's ReLU).
        Assert.Equal(["expanded_conv_squeeze_excite_conv_1", "add", "re_lu_1", "multiply", "expanded_conv_squeeze_excite_mul"],
                     model.Layers.SkipWhile(l => l.Name != "expanded_conv_squeeze_excite_conv_1").Take(5).Select(l => l.Name));
        Assert.Equal([1f], ((Rescaling)model.GetLayer("add")).Scale);
        Assert.Equal([3f], ((Rescaling)model.GetLayer("add")).Offset);
        Assert.Equal(6f, ((ReLU)model.GetLayer("re_lu_1")).MaxValue);
        Assert.Equal([(float)(1.0 / 6.0)], ((Rescaling)model.GetLayer("multiply")).Scale);
        Assert.Equal(ActivationKind.HardSwish, ((Activation)model.GetLayer("activation")).Function.Kind);
        Assert.Equal(5, ((DepthwiseConv2D)model.GetLayer("expanded_conv_3_depthwise")).KernelSize.Height);
        Assert.Equal(new Padding2D(1, 2, 1, 2), ((ZeroPadding2D)model.GetLayer("expanded_conv_3_depthwise_pad")).Padding);
        // 112 → 56 → 28 → 14 → 7: block 8's 5×5 stride-2 window sees an odd size and pads symmetrically.
        Assert.Equal(new Padding2D(2, 2, 2, 2), ((ZeroPadding2D)model.GetLayer("expanded_conv_8_depthwise_pad")).Padding);
        Assert.All(model.Layers.OfType<BatchNormalization>(), bn => Assert.Equal(1e-3, bn.Epsilon));
        Assert.Equal(["conv_2", "activation_18", "dropout", "logits", "flatten", "predictions"], model.Layers.TakeLast(6).Select(l => l.Name));
        Assert.Equal(0.2, ((Dropout)model.GetLayer("dropout")).Rate);

        using var minimalistic = MobileNetV3.Large(new ApplicationOptions { Resolution = 64, Minimalistic = true, IncludePreprocessing = false });
        Assert.Equal("conv", minimalistic.Layers[1].Name);
        Assert.DoesNotContain(minimalistic.Layers, l => l is Activation a && a.Function.Kind == ActivationKind.HardSwish);
        Assert.DoesNotContain(minimalistic.Layers, l => l.Name.Contains("squeeze_excite", StringComparison.Ordinal));
        Assert.All(minimalistic.Layers.OfType<DepthwiseConv2D>(), d => Assert.Equal(3, d.KernelSize.Height));
    }

    public static TheoryData<string, ApplicationOptions, string> BadOptions => new()
    {
        { "mobilenetv2", new ApplicationOptions { Alpha = 0.6 }, "alpha" },
        { "mobilenetv2", new ApplicationOptions { Resolution = 31 }, "at least 32" },
        { "resnet50", new ApplicationOptions { Resolution = 0 }, "at least 32" },
        { "efficientnet-b0", new ApplicationOptions { Classes = 0 }, "Classes" },
        { "efficientnet-b0", new ApplicationOptions { InputChannels = 0 }, "InputChannels" },
        { "efficientnet-b0", new ApplicationOptions { InputChannels = 1 }, "IncludePreprocessing" },
        { "resnet50", new ApplicationOptions { ClassifierActivation = "mish" }, "mish" },
        { "resnet50", new ApplicationOptions { Pooling = (GlobalPooling)7 }, "Pooling" },
        { "vgg16", new ApplicationOptions(), "efficientnet-b7" },
        { "resnet50", new ApplicationOptions { Alpha = 0.5 }, "MobileNetV3 only" },
        { "efficientnet-b1", new ApplicationOptions { Alpha = 1.4 }, "MobileNetV3 only" },
        { "mobilenet", new ApplicationOptions { Alpha = 0.35 }, "0.25, 0.5, 0.75, 1" },
        { "mobilenet", new ApplicationOptions { DepthMultiplier = 0 }, "DepthMultiplier" },
        { "mobilenet", new ApplicationOptions { Minimalistic = true }, "MobileNetV3 only" },
        { "mobilenet", new ApplicationOptions { Resolution = 31 }, "at least 32" },
        { "mobilenetv2", new ApplicationOptions { DepthMultiplier = 2 }, "MobileNet (v1) only" },
        { "mobilenetv3small", new ApplicationOptions { Alpha = 0.5 }, "0.75, 1" },
        { "mobilenetv3large", new ApplicationOptions { Alpha = 0.75, Minimalistic = true }, "minimalistic" },
        { "mobilenetv3large", new ApplicationOptions { DepthMultiplier = 2 }, "MobileNet (v1) only" },
        { "resnet50v2", new ApplicationOptions { Minimalistic = true }, "MobileNetV3 only" },
        { "resnet101v2", new ApplicationOptions { Alpha = 0.75 }, "MobileNetV3 only" },
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
        Assert.Contains("two blocks", Assert.Throws<ArgumentException>(() => ResNetV2.Create("resnetv2_bad", [3, 4, 1, 3])).Message);
    }
}
