using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Tests.Models.Architectures;

/// <summary>Parameter and layer counts against Keras's published numbers (/work/shared/docs/KERAS.md).</summary>
public sealed class ParameterCountTests
{
    // name, total, trainable, non-trainable, total without top, layers (InputLayer included), layers with weights,
    // weight variables, GMACs at the default resolution (derived: convolutions, depthwise and dense, to 3 decimals).
    public static TheoryData<string, long, long, long, long, int, int, int, double> Published => new()
    {
        { "efficientnet-b0", 5_330_571, 5_288_548, 42_023, 4_049_571, 241, 132, 314, 0.386 },
        { "efficientnet-b1", 7_856_239, 7_794_184, 62_055, 6_575_239, 343, 186, 442, 0.687 },
        { "efficientnet-b2", 9_177_569, 9_109_994, 67_575, 7_768_569, 343, 186, 442, 0.994 },
        { "efficientnet-b3", 12_320_535, 12_233_232, 87_303, 10_783_535, 388, 210, 499, 1.827 },
        { "efficientnet-b4", 19_466_823, 19_341_616, 125_207, 17_673_823, 478, 258, 613, 4.394 },
        { "efficientnet-b5", 30_562_527, 30_389_784, 172_743, 28_513_527, 580, 312, 741, 10.266 },
        { "efficientnet-b6", 43_265_143, 43_040_704, 224_439, 40_960_143, 670, 360, 855, 19.068 },
        { "efficientnet-b7", 66_658_687, 66_347_960, 310_727, 64_097_687, 817, 438, 1040, 37.746 },
        { "mobilenetv2", 3_538_984, 3_504_872, 34_112, 2_257_984, 156, 105, 262, 0.3008 },
        { "resnet50", 25_636_712, 25_583_592, 53_120, 23_587_712, 177, 107, 320, 3.858 },
        { "resnet101", 44_707_176, 44_601_832, 105_344, 42_658_176, 347, 209, 626, 7.570 },
        { "resnet152", 60_419_944, 60_268_520, 151_424, 58_370_944, 517, 311, 932, 11.282 },
        { "resnet50v2", 25_613_800, 25_568_360, 45_440, 23_564_800, 192, 103, 272, 3.482 },
        { "resnet101v2", 44_675_560, 44_577_896, 97_664, 42_626_560, 379, 205, 544, 7.194 },
        { "resnet152v2", 60_380_648, 60_236_904, 143_744, 58_331_648, 566, 307, 816, 10.907 },
    };

    // Each model is built once here (building allocates and seeds every weight, the slow part); the headless builds are
    // covered at small sizes in ApplicationOptionsTests.
    [Theory]
    [MemberData(nameof(Published))]
    public void CountsMatchKeras(string name, long total, long trainable, long nonTrainable, long withoutTop,
                                 int layers, int weightedLayers, int weightVariables, double gmacs)
    {
        using var model = ModelZoo.Create(name, new ApplicationOptions());
        Assert.Equal(total, model.ParameterCount);
        Assert.Equal(trainable, model.TrainableParameterCount);
        Assert.Equal(nonTrainable, model.NonTrainableParameterCount);
        Assert.Equal(layers, model.Layers.Count);
        Assert.Equal(weightedLayers, model.Layers.Count(l => l.Weights.Count > 0));
        Assert.Equal(weightVariables, model.Weights.Count());
        // The top adds weights only in predictions (pooling and dropout have none).
        Assert.Equal(withoutTop, total - model.GetLayer("predictions").ParameterCount);
        Assert.InRange(model.Summary().MultiplyAccumulates / 1e9, gmacs - 0.0015, gmacs + 0.0015);
    }

    // EfficientNetV2 (keras/src/applications/efficientnet_v2.py): name, total, trainable, non-trainable, total without top,
    // layers (InputLayer included), layers with weights, weight variables. Totals as Keras and google/automl report them
    // (shared docs TRAINING.md); the splits and layer counts recounted by building each model in the TF.js mirror
    // (tests/reference/tfjs/keras-apps.mjs, test/params.test.mjs).
    public static TheoryData<string, long, long, long, long, int, int, int> EfficientNetV2Published => new()
    {
        { "efficientnetv2-b0", 7_200_312, 7_139_704, 60_608, 5_919_312, 273, 151, 361 },
        { "efficientnetv2-b1", 8_212_124, 8_141_052, 71_072, 6_931_124, 337, 185, 443 },
        { "efficientnetv2-b2", 10_178_374, 10_096_086, 82_288, 8_769_374, 352, 193, 462 },
        { "efficientnetv2-b3", 14_467_622, 14_358_406, 109_216, 12_930_622, 412, 225, 538 },
        { "efficientnetv2-s", 21_612_360, 21_458_488, 153_872, 20_331_360, 516, 281, 672 },
        { "efficientnetv2-m", 54_431_388, 54_139_356, 292_032, 53_150_388, 743, 403, 963 },
        { "efficientnetv2-l", 119_027_848, 118_515_272, 512_576, 117_746_848, 1031, 557, 1331 },
    };

    // Built at 64×64: the weights do not depend on the resolution, and shape inference stays cheap (L still allocates its
    // 119M parameters).
    [Theory]
    [MemberData(nameof(EfficientNetV2Published))]
    public void EfficientNetV2CountsMatchKeras(string name, long total, long trainable, long nonTrainable, long withoutTop,
                                               int layers, int weightedLayers, int weightVariables)
    {
        using var model = ModelZoo.Create(name, new ApplicationOptions { Resolution = 64 });
        Assert.Equal(name, model.Name);
        Assert.Equal(total, model.ParameterCount);
        Assert.Equal(trainable, model.TrainableParameterCount);
        Assert.Equal(nonTrainable, model.NonTrainableParameterCount);
        Assert.Equal(layers, model.Layers.Count);
        Assert.Equal(weightedLayers, model.Layers.Count(l => l.Weights.Count > 0));
        Assert.Equal(weightVariables, model.Weights.Count());
        Assert.Equal(withoutTop, total - model.GetLayer("predictions").ParameterCount);
    }

    // alpha, total, trainable, non-trainable, without top, first conv width, last conv width.
    public static TheoryData<double, long, long, long, long, int, int> MobileNetV2Widths => new()
    {
        { 0.35, 1_691_208, 1_677_128, 14_080, 410_208, 16, 1280 },
        { 0.5, 1_987_224, 1_968_680, 18_544, 706_224, 16, 1280 },
        { 0.75, 2_663_064, 2_636_424, 26_640, 1_382_064, 24, 1280 },
        { 1.0, 3_538_984, 3_504_872, 34_112, 2_257_984, 32, 1280 },
        { 1.3, 5_431_048, 5_386_792, 44_256, 3_766_048, 40, 1664 },
        { 1.4, 6_156_712, 6_108_776, 47_936, 4_363_712, 48, 1792 },
    };

    [Theory]
    [MemberData(nameof(MobileNetV2Widths))]
    public void MobileNetV2CountsMatchKerasForEveryAlpha(double alpha, long total, long trainable, long nonTrainable,
                                                         long withoutTop, int firstConv, int lastConv)
    {
        using (var model = MobileNetV2.Create(new ApplicationOptions { Alpha = alpha }))
        {
            Assert.Equal(total, model.ParameterCount);
            Assert.Equal(trainable, model.TrainableParameterCount);
            Assert.Equal(nonTrainable, model.NonTrainableParameterCount);
            Assert.Equal(156, model.Layers.Count);
            Assert.Equal(firstConv, ((Conv2D)model.GetLayer("Conv1")).Filters);
            Assert.Equal(lastConv, ((Conv2D)model.GetLayer("Conv_1")).Filters);
            // Residual blocks are the same for every published width.
            Assert.Equal([2, 4, 5, 7, 8, 9, 11, 12, 14, 15],
                         model.Layers.OfType<Add>().Select(a => int.Parse(a.Name.Split('_')[1])));
        }
        using var headless = MobileNetV2.Create(new ApplicationOptions { Alpha = alpha, IncludeTop = false });
        Assert.Equal(withoutTop, headless.ParameterCount);
    }

    [Fact]
    public void MobileNetV2At035HasKerasBottleneckWidths()
    {
        using var model = MobileNetV2.Create(new ApplicationOptions { Alpha = 0.35 });
        var projects = model.Layers.OfType<Conv2D>().Where(c => c.Name.EndsWith("project", StringComparison.Ordinal)).Select(c => c.Filters);
        Assert.Equal([8, 8, 8, 16, 16, 16, 24, 24, 24, 24, 32, 32, 32, 56, 56, 56, 112], projects);
    }

    // MobileNet (v1) and MobileNetV3 at 224: name, options (alpha, depth multiplier, minimalistic), total, trainable, non-trainable,
    // total without top, layers (InputLayer included), layers with weights, weight variables. The default-width totals
    // and non-trainable counts are Keras's published ones (keras.io; /work/shared/docs/TRAINING.md for MobileNetV3); every
    // number was recounted by building the model in the TF.js mirror (tests/reference/tfjs/describe-model.mjs, without
    // its extra keep-dims Reshape layers: TF.js pooling has no keepdims). The top is conv_preds (MobileNet) or conv_2 and
    // logits (MobileNetV3), so the headless count is built, not subtracted.
    public static TheoryData<string, ApplicationOptions, long, long, long, long, int, int, int> MobileNets => new()
    {
        { "mobilenet", new ApplicationOptions(), 4_253_864, 4_231_976, 21_888, 3_228_864, 91, 55, 137 },
        { "mobilenet", new ApplicationOptions { Alpha = 0.75 }, 2_601_976, 2_585_560, 16_416, 1_832_976, 91, 55, 137 },
        { "mobilenet", new ApplicationOptions { Alpha = 0.5 }, 1_342_536, 1_331_592, 10_944, 829_536, 91, 55, 137 },
        { "mobilenet", new ApplicationOptions { Alpha = 0.25 }, 475_544, 470_072, 5_472, 218_544, 91, 55, 137 },
        { "mobilenet", new ApplicationOptions { DepthMultiplier = 2 }, 7_457_928, 7_426_120, 31_808, 6_432_928, 91, 55, 137 },
        { "mobilenetv3small", new ApplicationOptions(), 2_554_968, 2_542_856, 12_112, 939_120, 182, 88, 210 },
        { "mobilenetv3small", new ApplicationOptions { Alpha = 0.75 }, 2_051_552, 2_041_872, 9_680, 583_160, 182, 88, 210 },
        { "mobilenetv3small", new ApplicationOptions { Minimalistic = true }, 2_056_848, 2_044_736, 12_112, 441_000, 110, 70, 174 },
        { "mobilenetv3large", new ApplicationOptions(), 5_507_432, 5_483_032, 24_400, 2_996_352, 210, 110, 266 },
        { "mobilenetv3large", new ApplicationOptions { Alpha = 0.75 }, 4_012_616, 3_993_528, 19_088, 1_808_736, 210, 110, 266 },
        { "mobilenetv3large", new ApplicationOptions { Minimalistic = true }, 3_948_688, 3_924_288, 24_400, 1_437_608, 146, 94, 234 },
    };

    [Theory]
    [MemberData(nameof(MobileNets))]
    public void MobileNetAndMobileNetV3CountsMatchKeras(string name, ApplicationOptions options, long total, long trainable,
                                                        long nonTrainable, long withoutTop, int layers, int weightedLayers,
                                                        int weightVariables)
    {
        using (var model = ModelZoo.Create(name, options))
        {
            Assert.Equal(total, model.ParameterCount);
            Assert.Equal(trainable, model.TrainableParameterCount);
            Assert.Equal(nonTrainable, model.NonTrainableParameterCount);
            Assert.Equal(layers, model.Layers.Count);
            Assert.Equal(weightedLayers, model.Layers.Count(l => l.Weights.Count > 0));
            Assert.Equal(weightVariables, model.Weights.Count());
        }
        // Weights do not depend on the resolution; 64 keeps the headless build cheap.
        using var headless = ModelZoo.Create(name, options with { IncludeTop = false, Resolution = 64 });
        Assert.Equal(withoutTop, headless.ParameterCount);
    }

    [Fact]
    public void MobileNetV3HasKerasWidths()
    {
        using var large = MobileNetV3.Large(new ApplicationOptions { Resolution = 64 });
        // Expanded widths _depth(infilters * expansion), expansions 4, 3, 6, 2.5, 2.3 on 16 … 160 channels.
        Assert.Equal([64, 72, 72, 120, 120, 240, 200, 184, 184, 480, 672, 672, 960, 960],
                     large.Layers.OfType<Conv2D>().Where(c => c.Name.EndsWith("_expand", StringComparison.Ordinal)).Select(c => c.Filters));
        // SE bottleneck: _depth(expanded * 0.25).
        Assert.Equal([24, 32, 32, 120, 168, 168, 240, 240],
                     large.Layers.OfType<Conv2D>().Where(c => c.Name.EndsWith("squeeze_excite_conv", StringComparison.Ordinal)).Select(c => c.Filters));
        Assert.Equal(960, ((Conv2D)large.GetLayer("conv_1")).Filters);
        Assert.Equal(1280, ((Conv2D)large.GetLayer("conv_2")).Filters);
        using var small = MobileNetV3.Small(new ApplicationOptions { Resolution = 64, Alpha = 0.75 });
        Assert.Equal(16, ((Conv2D)small.GetLayer("conv")).Filters);
        Assert.Equal([16, 24, 24, 32, 32, 32, 40, 40, 72, 72, 72],
                     small.Layers.OfType<Conv2D>().Where(c => c.Name.EndsWith("project", StringComparison.Ordinal)).Select(c => c.Filters));
        Assert.Equal(432, ((Conv2D)small.GetLayer("conv_1")).Filters);
        Assert.Equal(1024, ((Conv2D)small.GetLayer("conv_2")).Filters);
    }
}
