using System.Text.Json;
using NativeCnn.Imaging;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Weights;

namespace NativeCnn.Tests.Imaging;

/// <summary>Classification: load_img-style resize, Keras preprocessing, prediction, top-K with labels; the Classify sample.</summary>
public sealed class ImageClassificationTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-classify-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public void ClassifyIsResizePreprocessPredictAndSort()
    {
        using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 96, ClassifierActivation = "linear" });
        var image = RandomImage(131, 77, seed: 3);

        // Spread the logits, so that the top classes are far apart.
        var kernel = model.GetLayer("predictions").GetWeight("kernel").Value.Span;
        for (int i = 0; i < kernel.Length; i++) kernel[i] *= 300;
        model.InvalidatePlans();
        var top = model.Classify(image, topK: 4, interpolation: ResizeInterpolation.Bilinear);

        using var input = ImagePreprocessing.ToTensor(ImageResize.Resize(image, 96, 96, ResizeInterpolation.Bilinear), PreprocessingMode.Tf);
        using var logits = model.Predict(input);
        var scores = logits.ToArray().Select(v => (double)v).ToArray();
        double max = scores.Max(), total = scores.Sum(s => Math.Exp(s - max));
        var expected = scores.Select((s, i) => (Index: i, P: Math.Exp(s - max) / total)).OrderByDescending(x => x.P).Take(4).ToArray();
        Assert.Equal(expected.Select(e => e.Index), top.Select(p => p.ClassIndex));
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(expected[i].P, top[i].Probability, 1e-6);
            Assert.Equal(ImageNetLabels.Names[top[i].ClassIndex], top[i].Label);
        }
    }

    [Theory]
    [InlineData("resnet50", PreprocessingMode.Caffe)]
    [InlineData("mobilenetv2", PreprocessingMode.Tf)]
    [InlineData("efficientnet-b0", PreprocessingMode.None)]
    public void EachFamilyGetsItsKerasPreprocessing(string arch, PreprocessingMode mode)
    {
        using var model = ModelZoo.Create(arch, new ApplicationOptions { Resolution = 32, Classes = 2 });
        Assert.Equal(mode, ImageClassification.DefaultPreprocessing(model));
    }

    [Fact]
    public void LabelsMustMatchTheClassCount()
    {
        using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 32, Classes = 3 });
        var e = Assert.Throws<ArgumentException>(() => model.Classify(RandomImage(40, 40, 1), labels: ["a", "b"]));
        Assert.Contains("2 labels for 3 classes", e.Message);
    }

    [Fact]
    public void ClassifySampleReadsAModelFileWithItsLabelsAndAnImage()
    {
        using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 64, Classes = 3 });
        string file = Path.Combine(_work, "three.safetensors");
        ModelFile.Save(model, file, metadata: new Dictionary<string, string> { ["labels"] = """["cat", "dog", "fox"]""" });
        var image = RandomImage(50, 70, seed: 9);
        string ppm = Path.Combine(_work, "image.ppm");
        File.WriteAllBytes(ppm, [.. System.Text.Encoding.ASCII.GetBytes("P6\n50 70\n255\n"), .. image.Pixels]);

        var (exit, stdout, stderr) = CommandLineTool.Classify.Run(["--model", file, "--top", "3", "--json", ppm]);
        Assert.True(exit == 0, stderr);

        using var json = JsonDocument.Parse(stdout);
        var top = json.RootElement.GetProperty("images")[0].GetProperty("top").EnumerateArray().ToArray();
        var expected = model.Classify(image, 3, labels: ["cat", "dog", "fox"]);
        Assert.Equal(expected.Select(p => p.Label), top.Select(t => t.GetProperty("label").GetString()));
        Assert.Equal(expected.Select(p => p.Probability), top.Select(t => t.GetProperty("probability").GetSingle()));
        Assert.Equal(1.0, top.Sum(t => t.GetProperty("probability").GetDouble()), 5);
    }

    [Fact]
    public void ClassifySampleExplainsMissingWeights()
    {
        var (exit, _, stderr) = CommandLineTool.Classify.Run(["--arch", "resnet50", "x.png"]);
        Assert.Equal(2, exit);
        Assert.Contains("--arch needs --weights FILE", stderr);
    }

    private static RgbImage RandomImage(int width, int height, int seed)
    {
        var pixels = new byte[width * height * 3];
        new Random(seed).NextBytes(pixels);
        return new RgbImage(width, height, pixels);
    }
}
