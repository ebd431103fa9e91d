using NativeCnn.Backends;
using NativeCnn.Tensors;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Tests.Models.Architectures;

/// <summary>
/// The Keras details of EfficientNetV2 (<c>keras/src/applications/efficientnet_v2.py</c>): rounding, stage widths and
/// depths, Fused-MBConv and MBConv layers, preprocessing per variant, drop-connect rates, names and zoo names.
/// </summary>
public sealed class EfficientNetV2Tests
{
    private static readonly ApplicationOptions s_small = new() { Resolution = 32 };

    [Theory]
    [InlineData(32, 1.0, 32)]
    [InlineData(32, 1.1, 32)]   // 35.2 + 4 -> 39 // 8 * 8
    [InlineData(32, 1.2, 40)]   // 38.4 + 4 -> 42 // 8 * 8
    [InlineData(16, 1.2, 16)]   // V1's 10% rule would give 24 (16 < 0.9 · 19.2)
    [InlineData(96, 1.1, 104)]
    [InlineData(112, 1.2, 136)]
    [InlineData(192, 1.1, 208)]
    [InlineData(1280, 1.2, 1536)]
    [InlineData(1, 1.0, 8)]     // min_depth
    public void RoundFiltersIsKerasV2(int filters, double width, int expected) =>
        Assert.Equal(expected, EfficientNetV2.RoundFilters(filters, width));

    [Fact]
    public void RoundFiltersHasNoTenPercentRule()
    {
        Assert.Equal(16, EfficientNetV2.RoundFilters(16, 1.2));
        Assert.Equal(24, EfficientNet.RoundFilters(16, 1.2));
    }

    // Stem width, per-stage output widths, blocks per stage and top_conv width after scaling.
    [Theory]
    [InlineData("efficientnetv2-b0", 32, new[] { 16, 32, 48, 96, 112, 192 }, new[] { 1, 2, 2, 3, 5, 8 }, 1280)]
    [InlineData("efficientnetv2-b1", 32, new[] { 16, 32, 48, 96, 112, 192 }, new[] { 2, 3, 3, 4, 6, 9 }, 1280)]
    [InlineData("efficientnetv2-b2", 32, new[] { 16, 32, 56, 104, 120, 208 }, new[] { 2, 3, 3, 4, 6, 10 }, 1408)]
    [InlineData("efficientnetv2-b3", 40, new[] { 16, 40, 56, 112, 136, 232 }, new[] { 2, 3, 3, 5, 7, 12 }, 1536)]
    [InlineData("efficientnetv2-s", 24, new[] { 24, 48, 64, 128, 160, 256 }, new[] { 2, 4, 4, 6, 9, 15 }, 1280)]
    [InlineData("efficientnetv2-m", 24, new[] { 24, 48, 80, 160, 176, 304, 512 }, new[] { 3, 5, 5, 7, 14, 18, 5 }, 1280)]
    [InlineData("efficientnetv2-l", 32, new[] { 32, 64, 96, 192, 224, 384, 640 }, new[] { 4, 7, 7, 10, 19, 25, 7 }, 1280)]
    public void StagesHaveKerasWidthsAndDepths(string name, int stem, int[] widths, int[] repeats, int top)
    {
        using var model = ModelZoo.Create(name, new ApplicationOptions { Resolution = 32, IncludeTop = false });
        Assert.Equal(stem, ((Conv2D)model.GetLayer("stem_conv")).Filters);
        for (int stage = 1; stage <= widths.Length; stage++)
        {
            var projects = model.Layers.OfType<Conv2D>()
                .Where(c => c.Name.StartsWith($"block{stage}", StringComparison.Ordinal) && c.Name.EndsWith("_project_conv", StringComparison.Ordinal))
                .ToList();
            Assert.Equal(repeats[stage - 1], projects.Count);
            Assert.All(projects, p => Assert.Equal(widths[stage - 1], p.Filters));
            Assert.Equal($"block{stage}{(char)('a' + repeats[stage - 1] - 1)}_project_conv", projects[^1].Name);
        }
        Assert.DoesNotContain(model.Layers, l => l.Name.StartsWith($"block{widths.Length + 1}", StringComparison.Ordinal));
        Assert.Equal(top, ((Conv2D)model.GetLayer("top_conv")).Filters);
    }

    [Fact]
    public void FusedBlocksAreKerasFusedMBConv()
    {
        using var model = EfficientNetV2.B0(new ApplicationOptions { Resolution = 64 });
        // block1a: expand_ratio 1, so project_conv is the 3×3 conv and has its own activation; 32 -> 16, no residual.
        var project1a = (Conv2D)model.GetLayer("block1a_project_conv");
        Assert.Equal((3, 3), project1a.KernelSize);
        Assert.Equal((1, 1), project1a.Strides);
        Assert.Equal(ActivationFunction.Swish, ((Activation)model.GetLayer("block1a_project_activation")).Function);
        Assert.DoesNotContain(model.Layers, l => l.Name is "block1a_expand_conv" or "block1a_add" or "block1a_drop");
        // block2a: the 3×3 stride-2 expand_conv replaces expansion + depthwise; project_conv is 1×1 without activation.
        var expand2a = (Conv2D)model.GetLayer("block2a_expand_conv");
        Assert.Equal((3, 3), expand2a.KernelSize);
        Assert.Equal((2, 2), expand2a.Strides);
        Assert.Equal(Padding.Same, expand2a.Padding);
        Assert.Equal(64, expand2a.Filters);
        Assert.Equal((1, 1), ((Conv2D)model.GetLayer("block2a_project_conv")).KernelSize);
        Assert.DoesNotContain(model.Layers, l => l.Name is "block2a_project_activation" or "block2a_dwconv2" or "block2a_se_squeeze");
        Assert.Equal("(None, 16, 16, 32)", Shape(model, "block2a_project_bn"));
        Assert.IsType<Add>(model.GetLayer("block2b_add"));
    }

    [Fact]
    public void MBConvBlocksAreKerasMBConv()
    {
        using var model = EfficientNetV2.B0(new ApplicationOptions { Resolution = 64 });
        var dw = (DepthwiseConv2D)model.GetLayer("block4a_dwconv2");
        Assert.Equal((3, 3), dw.KernelSize);
        Assert.Equal((2, 2), dw.Strides);
        Assert.Equal(Padding.Same, dw.Padding);
        Assert.False(dw.UseBias);
        Assert.Equal(48 * 4, ((Conv2D)model.GetLayer("block4a_expand_conv")).Filters);
        // SE width from the block input: int(48 · 0.25) = 12, then back to the expanded 192.
        Assert.Equal(12, ((Conv2D)model.GetLayer("block4a_se_reduce")).Filters);
        Assert.Equal(192, ((Conv2D)model.GetLayer("block4a_se_expand")).Filters);
        Assert.Equal(ActivationFunction.Sigmoid, ((Conv2D)model.GetLayer("block4a_se_expand")).Activation);
        Assert.Equal(24, ((Conv2D)model.GetLayer("block5a_se_reduce")).Filters); // int(96 · 0.25): block5a's input is 96 wide
        Assert.Equal(28, ((Conv2D)model.GetLayer("block5b_se_reduce")).Filters); // int(112 · 0.25) after it
        // No explicit padding layers anywhere: every conv pads 'same' itself, the stem included.
        Assert.Empty(model.Layers.OfType<ZeroPadding2D>());
        Assert.Equal(Padding.Same, ((Conv2D)model.GetLayer("stem_conv")).Padding);
        Assert.All(model.Layers.OfType<BatchNormalization>(), bn => Assert.Equal(1e-3, bn.Epsilon));
    }

    // TF 'same' at stride 2 gives ceil(size / 2): 225 -> 113 -> 57 -> 29 -> 15 -> 8.
    [Fact]
    public void OddResolutionsHalveLikeTensorFlowSame()
    {
        using var model = EfficientNetV2.S(new ApplicationOptions { Resolution = 225 });
        Assert.Equal("(None, 113, 113, 24)", Shape(model, "stem_activation"));
        Assert.Equal("(None, 57, 57, 48)", Shape(model, "block2a_project_bn"));
        Assert.Equal("(None, 29, 29, 64)", Shape(model, "block3a_project_bn"));
        Assert.Equal("(None, 15, 15, 128)", Shape(model, "block4a_project_bn"));
        Assert.Equal("(None, 8, 8, 1280)", Shape(model, "top_activation"));
        Assert.Equal("(None, 1000)", Shape(model, "predictions"));
    }

    [Fact]
    public void BVariantsNormalizeWithImageNetStatistics()
    {
        using var model = EfficientNetV2.B0(s_small);
        Assert.Equal(["input_layer", "rescaling", "normalization", "stem_conv"], model.Layers.Take(4).Select(l => l.Name));
        Assert.Equal((float)(1.0 / 255), ((Rescaling)model.GetLayer("rescaling")).Scale[0]);
        // Keras's Normalization(mean, variance=std²) has no weights: (x − mean) / std.
        var normalization = Assert.IsType<Normalization>(model.GetLayer("normalization"));
        Assert.True(normalization.StatisticsAreConstants);
        Assert.Equal(0, normalization.ParameterCount);
        Assert.Empty(normalization.Weights);
        var affine = Assert.IsType<ChannelAffineOp>(normalization.CreateOp([TensorShape.Nhwc(1, 8, 8, 3)]));
        double[] mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(1 / std[c], affine.Scale[c], 5);
            Assert.Equal(-mean[c] / std[c], affine.Shift[c], 5);
        }
    }

    [Theory]
    [InlineData("efficientnetv2-s")]
    [InlineData("efficientnetv2-m")]
    [InlineData("efficientnetv2-l")]
    public void SmlRescaleToMinusOneOne(string name)
    {
        using var model = ModelZoo.Create(name, s_small);
        Assert.Equal(["input_layer", "rescaling", "stem_conv"], model.Layers.Take(3).Select(l => l.Name));
        var rescaling = (Rescaling)model.GetLayer("rescaling");
        Assert.Equal([1f / 128], rescaling.Scale);
        Assert.Equal([-1f], rescaling.Offset);
    }

    [Fact]
    public void PreprocessingFollowsKerasForOtherChannelCountsAndCanBeLeftOut()
    {
        // Keras applies V1's normalization only when the input has 3 channels; otherwise x / 128 − 1, even for B0.
        using var gray = EfficientNetV2.B0(s_small with { InputChannels = 1 });
        Assert.Equal(["input_layer", "rescaling", "stem_conv"], gray.Layers.Take(3).Select(l => l.Name));
        Assert.Equal([-1f], ((Rescaling)gray.GetLayer("rescaling")).Offset);
        Assert.Equal(7_200_312 - 2 * 3 * 3 * 32, gray.ParameterCount);
        using var bare = EfficientNetV2.B0(s_small with { IncludePreprocessing = false });
        Assert.Equal(["input_layer", "stem_conv"], bare.Layers.Take(2).Select(l => l.Name));
        Assert.Equal(7_200_312, bare.ParameterCount);
    }

    [Fact]
    public void DropConnectRatesAreKeras()
    {
        using var b0 = EfficientNetV2.B0(s_small);
        // drop_connect_rate · b / blocks, with blocks the sum of the unscaled repeats (21 for the B tables).
        Assert.Equal(0.2 * 2 / 21, ((Dropout)b0.GetLayer("block2b_drop")).Rate, 12);
        Assert.Equal(0.2 * 20 / 21, ((Dropout)b0.GetLayer("block6h_drop")).Rate, 12);
        Assert.Equal(0.2, ((Dropout)b0.GetLayer("top_dropout")).Rate);
        Assert.DoesNotContain(b0.Layers, l => l.Name is "block1a_drop" or "block2a_drop" or "block4a_drop");
        // B3 has 32 blocks but still divides by 21, so its last rate is 0.2 · 31 / 21 > 0.2.
        using var b3 = EfficientNetV2.B3(s_small);
        Assert.Equal(0.2 * 31 / 21, ((Dropout)b3.GetLayer("block6l_drop")).Rate, 12);
        Assert.Equal(0.2, ((Dropout)b3.GetLayer("top_dropout")).Rate);
        // S: block1a has rate 0 (no layer) but a residual (24 -> 24); block1b is b = 1 of 40.
        using var s = EfficientNetV2.S(s_small);
        Assert.IsType<Add>(s.GetLayer("block1a_add"));
        Assert.DoesNotContain(s.Layers, l => l.Name == "block1a_drop");
        Assert.Equal(0.2 * 1 / 40, ((Dropout)s.GetLayer("block1b_drop")).Rate, 12);
    }

    [Theory]
    [InlineData(0, "efficientnetv2-b0", 224)]
    [InlineData(1, "efficientnetv2-b1", 240)]
    [InlineData(2, "efficientnetv2-b2", 260)]
    [InlineData(3, "efficientnetv2-b3", 300)]
    [InlineData(4, "efficientnetv2-s", 384)]
    [InlineData(5, "efficientnetv2-m", 480)]
    [InlineData(6, "efficientnetv2-l", 480)]
    public void VariantsHaveKerasNamesAndDefaults(int index, string name, int resolution)
    {
        var variant = EfficientNetV2Variant.Standard[index];
        Assert.Equal(name, variant.Name);
        Assert.Equal(resolution, variant.Resolution);
        Assert.Equal(name.Split('-')[^1].StartsWith('b'), variant.ImageNetNormalization);
        Assert.Contains(name, ModelZoo.Names);
    }

    [Fact]
    public void DefaultResolutionIsTheVariants()
    {
        using var model = EfficientNetV2.B1();
        Assert.Equal("(None, 240, 240, 3)", model.Input.OutputShape.ToKerasString());
        Assert.Equal("efficientnetv2-b1", model.Name);
    }

    [Theory]
    [InlineData("efficientnetv2-b0", "efficientnetv2-b0")]
    [InlineData("EfficientNetV2B0", "efficientnetv2-b0")]
    [InlineData("efficientnet_v2_b3", "efficientnetv2-b3")]
    [InlineData("EfficientNetV2S", "efficientnetv2-s")]
    [InlineData("efficientnetv2-L", "efficientnetv2-l")]
    [InlineData("efficientnetb0", "efficientnet-b0")]
    [InlineData("EfficientNetB3", "efficientnet-b3")]
    public void ZooResolvesV2NamesWithoutCollidingWithV1(string name, string canonical)
    {
        Assert.True(ModelZoo.TryResolve(name, out string resolved, out _, out _));
        Assert.Equal(canonical, resolved);
    }

    [Fact]
    public void ZooListsTheSevenV2ModelsInKerasOrder() =>
        Assert.Equal(["efficientnetv2-b0", "efficientnetv2-b1", "efficientnetv2-b2", "efficientnetv2-b3", "efficientnetv2-s",
                      "efficientnetv2-m", "efficientnetv2-l"],
                     ModelZoo.Names.Where(n => n.StartsWith("efficientnetv2-", StringComparison.Ordinal)));

    [Theory]
    [InlineData(GlobalPooling.None, "top_activation", "(None, 1, 1, 1280)")]
    [InlineData(GlobalPooling.Average, "avg_pool", "(None, 1280)")]
    [InlineData(GlobalPooling.Max, "max_pool", "(None, 1280)")]
    public void WithoutTopTheModelEndsWithTheRequestedPooling(GlobalPooling pooling, string lastLayer, string shape)
    {
        using var model = EfficientNetV2.B0(s_small with { IncludeTop = false, Pooling = pooling });
        Assert.Equal(lastLayer, model.Layers[^1].Name);
        Assert.Equal(shape, model.Output.OutputShape.ToKerasString());
        Assert.Equal(5_919_312, model.ParameterCount);
        Assert.DoesNotContain(model.Layers, l => l.Name is "top_dropout" or "predictions");
    }

    [Fact]
    public void ClassesAndClassifierActivationShapeThePredictions()
    {
        using var model = EfficientNetV2.S(s_small with { Classes = 10, ClassifierActivation = null });
        var predictions = (Dense)model.GetLayer("predictions");
        Assert.Equal(ActivationFunction.Linear, predictions.Activation);
        Assert.Equal(1280 * 10 + 10, predictions.ParameterCount);
    }

    [Fact]
    public void BadVariantsAndOptionsAreRejected()
    {
        var b0 = EfficientNetV2Variant.B0;
        Assert.Contains("width", Assert.Throws<ArgumentException>(() => EfficientNetV2.Create(b0 with { Width = 0 })).Message);
        Assert.Contains("depth", Assert.Throws<ArgumentException>(() => EfficientNetV2.Create(b0 with { Depth = -1 })).Message);
        Assert.Contains("stage", Assert.Throws<ArgumentException>(() => EfficientNetV2.Create(b0 with { Blocks = [] })).Message);
        Assert.Contains("strides", Assert.Throws<ArgumentException>(() =>
            EfficientNetV2.Create(b0 with { Blocks = [b0.Blocks[0] with { Strides = 3 }] })).Message);
        Assert.Contains("Alpha applies to MobileNet, MobileNetV2 and MobileNetV3 only", Assert.Throws<ArgumentException>(() => EfficientNetV2.S(new ApplicationOptions { Alpha = 0.5 })).Message);
        Assert.Contains("at least 32", Assert.Throws<ArgumentException>(() => EfficientNetV2.M(new ApplicationOptions { Resolution = 16 })).Message);
    }

    [Fact]
    public void StagesPrintInTimmNotation()
    {
        Assert.Equal("er_r2_k3_s2_e4_c32", EfficientNetV2Variant.B0.Blocks[1].ToString());
        Assert.Equal("ir_r3_k3_s2_e4_c96_se0.25", EfficientNetV2Variant.B0.Blocks[3].ToString());
    }

    // Every layer against the TensorFlow.js mirror (Fixtures/efficientnetv2-*.tsv from describe-model.mjs): name, class,
    // output shape, parameters and inputs, in order.
    [Theory]
    [InlineData("efficientnetv2-b0")]
    [InlineData("efficientnetv2-s")]
    public void LayersMatchTheKerasMirror(string name)
    {
        var expected = KerasLayerListTests.ReadFixture(name);
        using var model = ModelZoo.Create(name, new ApplicationOptions());
        var rows = model.Summary().Rows;
        string Rename(string layer) => layer == "input_1" ? model.Input.Name : layer;
        Assert.Equal(expected.Select(e => Rename(e.Name)), rows.Select(r => r.Name));
        for (int i = 0; i < rows.Count; i++)
        {
            var (layer, className, outputShape, parameters, inbound) = expected[i];
            Assert.True(className == rows[i].ClassName, $"{layer}: class {rows[i].ClassName}, expected {className}");
            Assert.True(outputShape == rows[i].OutputShape, $"{layer}: output {rows[i].OutputShape}, expected {outputShape}");
            Assert.True(parameters == rows[i].Parameters, $"{layer}: {rows[i].Parameters} parameters, expected {parameters}");
            Assert.Equal(inbound.Select(Rename), rows[i].ConnectedTo);
        }
    }

    private static string Shape(Model model, string layer) => model.Nodes.Single(n => n.Name == layer).OutputShape.ToKerasString();
}
