using System.Security.Cryptography;
using NativeCnn.Models.Architectures;
using NativeCnn.Weights.Pretrained;

namespace NativeCnn.Tests.Weights.Pretrained;

/// <summary>
/// Keras's <c>weights="imagenet"</c> on the builders (<see cref="ApplicationOptions.Weights"/>) and the catalog of Keras's
/// files, against a local HTTP server standing in for storage.googleapis.com.
/// </summary>
public sealed class ApplicationWeightsTests : IDisposable
{
    private const string MobileNetPath = "/tensorflow/keras-applications/mobilenet_v2/";
    private readonly TestWeightServer _server = new();
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-imagenet").FullName;

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private string Cache => Path.Combine(_work, "models");

    private PretrainedWeightsOptions Download => new() { CacheDirectory = Cache, MirrorUrl = _server.BaseUrl };

    private string[] CachedFiles() => Directory.Exists(Cache) ? Directory.GetFiles(Cache) : [];

    [Theory]
    [InlineData("resnet50", true, "https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5", "2cb95161c43110f7111970584f804107")]
    [InlineData("resnet50", false, "https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "4d473c1dd8becc155b73f8504c6f6626")]
    [InlineData("resnet101", true, "https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet101_weights_tf_dim_ordering_tf_kernels.h5", "f1aeb4b969a6efcfb50fad2f0c20cfc5")]
    [InlineData("resnet152", false, "https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5", "ee4c566cf9a93f14d82f913c2dc6dd0c")]
    [InlineData("efficientnetb0", true, "https://storage.googleapis.com/keras-applications/efficientnetb0.h5", "902e53a9f72be733fc0bcb005b3ebbac")]
    [InlineData("efficientnetb0", false, "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5", "50bc09e76180e00e4465e1a485ddc09d")]
    [InlineData("efficientnetb7", true, "https://storage.googleapis.com/keras-applications/efficientnetb7.h5", "8c03f828fec3ef71311cd463b6759d99")]
    [InlineData("efficientnetb7", false, "https://storage.googleapis.com/keras-applications/efficientnetb7_notop.h5", "cbcfe4450ddf6f3ad90b1b398090fe4a")]
    [InlineData("mobilenetv2_1.00_224", true, "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", null)]
    [InlineData("mobilenetv2_0.35_96", false, "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5", null)]
    [InlineData("mobilenetv2_0.50_160", true, "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_160.h5", null)]
    [InlineData("mobilenetv2_1.40_100", true, "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224.h5", null)]
    [InlineData("resnet50v2", true, "https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50v2_weights_tf_dim_ordering_tf_kernels.h5", "3ef43a0b657b3be2300d5770ece849e0")]
    [InlineData("resnet152v2", false, "https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "ed17cf2e0169df9d443503ef94b23b33")]
    [InlineData("efficientnetv2-b0", true, "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b0.h5", "21ecbf6da12460d5c40bb2f29ceb2188")]
    [InlineData("efficientnetv2-l", false, "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-l_notop.h5", "b0b66b5c863aef5b46e8608fe1711615")]
    [InlineData("small_224_1.0_float", true, "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float.h5", "8768d4c2e7dee89b9d02b2d03d65d862")]
    [InlineData("large_minimalistic_224_1.0_float", false, "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5", "ec5221f64a2f6d1ef965a614bdae7973")]
    [InlineData("mobilenet_1.00_224", true, "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_1_0_224_tf.h5", null)]
    [InlineData("mobilenet_0.25_128", false, "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_2_5_128_tf_no_top.h5", null)]
    [InlineData("mobilenet_0.75_100", true, "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_7_5_224_tf.h5", null)]
    public void TheCatalogHasKerassUrlsAndHashes(string model, bool includeTop, string url, string? md5)
    {
        var file = PretrainedWeights.ImageNet(model, includeTop);
        Assert.Equal(url, file.Url);
        Assert.Equal(md5, file.Hash);
        Assert.Equal(md5 is null ? WeightHashAlgorithm.None : WeightHashAlgorithm.Md5, file.Algorithm);
        file.Validate();
    }

    [Fact]
    public void EveryZooModelHasImageNetWeightsAndOthersHaveNone()
    {
        foreach (string name in ModelZoo.Names)
        {
            string kerasName = name switch
            {
                "mobilenet" => "mobilenet_1.00_224",
                "mobilenetv2" => "mobilenetv2_1.00_224",
                "mobilenetv3small" => "small_224_1.0_float",
                "mobilenetv3large" => "large_224_1.0_float",
                _ when name.StartsWith("efficientnetv2-", StringComparison.Ordinal) => name,
                _ => name.Replace("-", "", StringComparison.Ordinal),
            };
            Assert.True(PretrainedWeights.TryGetImageNet(kerasName, true, out _), name);
            Assert.True(PretrainedWeights.TryGetImageNet(kerasName, false, out _), name);
        }
        foreach (double alpha in ApplicationOptions.MobileNetV2Alphas)
            foreach (int rows in PretrainedWeights.MobileNetV2Resolutions)
                Assert.EndsWith($"_{rows}.h5", PretrainedWeights.ImageNet(MobileNetV2.ModelName(alpha, rows)).Url);
        Assert.False(PretrainedWeights.TryGetImageNet("mobilenetv2_0.60_224", true, out _));
        Assert.False(PretrainedWeights.TryGetImageNet("efficientnetb8", true, out _));
        Assert.False(PretrainedWeights.TryGetImageNet("mobilenet_0.60_224", true, out _));
        Assert.False(PretrainedWeights.TryGetImageNet("small_minimalistic_224_0.75_float", true, out _));
        Assert.Contains("resnet50", Assert.Throws<ArgumentException>(() => PretrainedWeights.ImageNet("vgg16")).Message);
    }

    [Theory]
    [InlineData(true, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96.h5", 96)]
    [InlineData(false, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5", 96)]
    [InlineData(true, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224.h5", 64)]
    public void ImageNetWeightsAreFetchedCheckedByLoadingAndLoaded(bool includeTop, string fileName, int resolution)
    {
        var options = new ApplicationOptions { Alpha = 0.35, Resolution = resolution, IncludeTop = includeTop };
        using var pretrained = MobileNetV2.Create(options);
        PretrainedTestWeights.Perturb(pretrained);
        _server.Serve(MobileNetPath + fileName, new(PretrainedTestWeights.SafeTensorsBytes(pretrained, _work)));

        using var model = MobileNetV2.Create(options with { Weights = "imagenet", Download = Download });
        PretrainedTestWeights.AssertSameWeights(pretrained, model);
        Assert.Equal([Path.Combine(Cache, fileName), Path.Combine(Cache, fileName + ".sha256")], CachedFiles().Order());

        // Cached: built again without a request, by Keras's model name through the zoo.
        using var again = ModelZoo.Create(model.Name, options with { Alpha = 1.0, Resolution = null, Weights = "ImageNet", Download = Download });
        PretrainedTestWeights.AssertSameWeights(pretrained, again);
        Assert.Single(_server.RequestsFor(MobileNetPath + fileName));
    }

    [Fact]
    public void AFileWithoutAHashThatDoesNotLoadIsNotKept()
    {
        // alpha 0.5 weights where the 0.35 ones are expected: the shapes differ.
        using var other = MobileNetV2.Create(new ApplicationOptions { Alpha = 0.5, Resolution = 96 });
        string fileName = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96.h5";
        _server.Serve(MobileNetPath + fileName, new(PretrainedTestWeights.SafeTensorsBytes(other, _work)));
        var e = Assert.Throws<InvalidDataException>(() => MobileNetV2.Create(new ApplicationOptions { Alpha = 0.35, Resolution = 96, Weights = "imagenet", Download = Download }));
        Assert.Contains(_server.BaseUrl + MobileNetPath + fileName, e.Message);
        Assert.Empty(CachedFiles());
    }

    [Fact]
    public void AHashedFileThatDoesNotMatchIsRefusedNamingTheUrlAndBothHashes()
    {
        byte[] body = [.. Enumerable.Range(0, 5000).Select(i => (byte)i)];
        _server.Serve("/keras-applications/efficientnetb0_notop.h5", new(body));
        var e = Assert.Throws<WeightDownloadException>(() =>
            EfficientNet.B0(new ApplicationOptions { IncludeTop = false, Resolution = 32, Weights = "imagenet", Download = Download }));
        Assert.Contains(_server.BaseUrl + "/keras-applications/efficientnetb0_notop.h5", e.Message);
        Assert.Contains("50bc09e76180e00e4465e1a485ddc09d", e.Message);
        Assert.Contains(Convert.ToHexStringLower(MD5.HashData(body)), e.Message);
        Assert.Empty(CachedFiles());
    }

    [Theory]
    [InlineData("small", 1.0, false, "/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5")]
    [InlineData("large", 0.75, false, "/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_large_224_0.75_float_no_top_v2.h5")]
    [InlineData("small", 1.0, true, "/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5")]
    public void MobileNetV3FetchesTheFileOfItsWidthAndKind(string type, double alpha, bool minimalistic, string path)
    {
        // A body that cannot match the published MD5: the request shows which file the builder asked for.
        _server.Serve(path, new([1, 2, 3, 4]));
        var options = new ApplicationOptions { IncludeTop = false, Resolution = 32, Alpha = alpha, Minimalistic = minimalistic, Weights = "imagenet", Download = Download };
        var e = Assert.Throws<WeightDownloadException>(() => type == "small" ? MobileNetV3.Small(options) : MobileNetV3.Large(options));
        Assert.Contains(_server.BaseUrl + path, e.Message);
        Assert.Empty(CachedFiles());
    }

    [Fact]
    public void KerassImageNetChecksComeBeforeTheModelIsBuilt()
    {
        var imagenet = new ApplicationOptions { Weights = "imagenet", Download = Download, Resolution = 32 };
        Assert.Contains("Classes = 1000", Assert.Throws<ArgumentException>(() => ResNet.ResNet50(imagenet with { Classes = 10 })).Message);
        Assert.Contains("InputChannels = 3", Assert.Throws<ArgumentException>(() => EfficientNet.B0(imagenet with { InputChannels = 1, IncludePreprocessing = false })).Message);
        Assert.Contains("DepthMultiplier = 1", Assert.Throws<ArgumentException>(() => MobileNet.Create(imagenet with { DepthMultiplier = 2 })).Message);
        Assert.Contains("no ImageNet weights for 'custom'", Assert.Throws<ArgumentException>(() => ResNet.Create("custom", [1, 1, 1, 1], imagenet)).Message);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public void WeightsMayNameALocalFile()
    {
        var options = new ApplicationOptions { Alpha = 0.35, Resolution = 32, Classes = 5 };
        using var trained = MobileNetV2.Create(options);
        PretrainedTestWeights.Perturb(trained, seed: 7);
        string path = Path.Combine(_work, "trained.safetensors");
        File.WriteAllBytes(path, PretrainedTestWeights.SafeTensorsBytes(trained, _work));
        using var model = ModelZoo.Create("mobilenetv2", options with { Weights = path });
        PretrainedTestWeights.AssertSameWeights(trained, model);
        Assert.Contains("missing.h5", Assert.ThrowsAny<IOException>(() => MobileNetV2.Create(options with { Weights = Path.Combine(_work, "missing.h5") })).Message);
    }
}
