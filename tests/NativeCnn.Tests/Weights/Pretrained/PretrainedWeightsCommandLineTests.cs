using System.Text.Json;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;
using NativeCnn.Weights;
using NativeCnn.Weights.Keras;

namespace NativeCnn.Tests.Weights.Pretrained;

/// <summary>
/// <c>--weights imagenet</c> on Inspect and Classify, end to end in child processes: <c>NATIVECNN_HOME</c> in a temporary
/// folder and <c>NATIVECNN_WEIGHTS_URL</c> pointing at a local HTTP server that stands in for storage.googleapis.com.
/// </summary>
public sealed class PretrainedWeightsCommandLineTests : IDisposable
{
    private const string MobileNetPath = "/tensorflow/keras-applications/mobilenet_v2/";
    private const string MobileNetFile = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96.h5";
    private static readonly string[] s_arch = ["--alpha", "0.35", "--resolution", "96"];
    private static readonly ApplicationOptions s_options = new() { Alpha = 0.35, Resolution = 96 };

    private readonly TestWeightServer _server = new();
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-imagenet-cli").FullName;

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private string Home => Path.Combine(_work, "home");

    private Dictionary<string, string> Environment(string? mirror = null) => new()
    {
        ["NATIVECNN_HOME"] = Home,
        ["NATIVECNN_WEIGHTS_URL"] = mirror ?? _server.BaseUrl,
    };

    private string[] CachedFiles()
    {
        string models = Path.Combine(Home, "models");
        return Directory.Exists(models) ? [.. Directory.GetFiles(models).Select(Path.GetFileName).Order()!] : [];
    }

    private static void AssertOneLineError(CommandLineTool.Result result, params string[] contains)
    {
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}, expected 1: {result.Stderr}");
        string error = result.Stderr.Trim();
        Assert.StartsWith("error: ", error);
        Assert.DoesNotContain('\n', error);
        foreach (string text in contains) Assert.Contains(text, error);
    }

    private string WriteInput()
    {
        var random = new Random(20261202);
        using var x = new Tensor(1, 96, 96, 3);
        foreach (ref float v in x.Span) v = (float)(random.NextDouble() * 2 - 1);
        string path = Path.Combine(_work, "x.npy");
        NpyFile.Write(path, x);
        return path;
    }

    private float[] InspectRun(string input, string name, params string[] weights)
    {
        string output = Path.Combine(_work, name + ".npy");
        var result = CommandLineTool.Inspect.Run(["run", "mobilenetv2", .. s_arch, .. weights, "--input", input, "--output", output], Environment());
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("", result.Stderr); // no progress when stderr is not a terminal
        using var y = NpyFile.Read(output);
        return y.Span.ToArray();
    }

    [Fact]
    public void InspectDownloadsTheImageNetWeightsOnceAndRunsWithThem()
    {
        using (var pretrained = MobileNetV2.Create(s_options))
        {
            PretrainedTestWeights.Perturb(pretrained);
            _server.Serve(MobileNetPath + MobileNetFile, new(PretrainedTestWeights.SafeTensorsBytes(pretrained, _work)));
        }
        string input = WriteInput();
        float[] imagenet = InspectRun(input, "imagenet", "--weights", "imagenet");
        Assert.Equal([MobileNetFile, MobileNetFile + ".sha256"], CachedFiles());
        float[] again = InspectRun(input, "again", "--weights", "imagenet");
        Assert.Single(_server.RequestsFor(MobileNetPath + MobileNetFile));
        // The cached file (safetensors bytes standing in for Keras's .h5) as a local --weights file.
        string copy = Path.Combine(_work, "cached.safetensors");
        File.Copy(Path.Combine(Home, "models", MobileNetFile), copy);
        float[] fromFile = InspectRun(input, "file", "--weights", copy);
        float[] seeded = InspectRun(input, "seeded");
        Assert.Equal(imagenet, again);
        Assert.Equal(imagenet, fromFile);
        Assert.NotEqual(seeded, imagenet);
        Assert.True(imagenet.Max() > imagenet.Min(), "the weights classify nothing");
    }

    [ReferenceFact(ExternalReference.H5py)]
    public void ClassifyLoadsARealKerasH5AsTheImageNetFile()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_work, "keras-export")).FullName;
        using (var pretrained = MobileNetV2.Create(s_options))
        {
            PretrainedTestWeights.Perturb(pretrained);
            File.WriteAllText(Path.Combine(folder, "model-config.json"), KerasModelConfig.ToJson(pretrained));
            NpyWeightDirectory.Save(pretrained, Path.Combine(folder, "weights"));
        }
        string script = Path.Combine(TestPaths.RepositoryRoot, "tests", "reference", "h5", "write-keras-model.py");
        TestProcess.Run("/usr/bin/python3", [script, Path.Combine(folder, "model-config.json"), Path.Combine(folder, "weights"), Path.Combine(folder, "keras")], folder);
        string h5 = Path.Combine(folder, "keras", "legacy-weights.h5");
        _server.Serve(MobileNetPath + MobileNetFile, new(File.ReadAllBytes(h5)));
        string image = Path.Combine(_work, "image.ppm");
        File.WriteAllBytes(image, [.. System.Text.Encoding.ASCII.GetBytes("P6\n4 3\n255\n"), .. Enumerable.Range(0, 36).Select(i => (byte)(i * 7))]);

        var imagenet = CommandLineTool.Classify.Run(["--arch", "mobilenetv2", .. s_arch, "--weights", "imagenet", "--json", image], Environment());
        Assert.True(imagenet.ExitCode == 0, imagenet.Stderr);
        var local = CommandLineTool.Classify.Run(["--arch", "mobilenetv2", .. s_arch, "--weights", h5, "--json", image]);
        Assert.True(local.ExitCode == 0, local.Stderr);
        Assert.Equal(local.Stdout, imagenet.Stdout);
        using var json = JsonDocument.Parse(imagenet.Stdout);
        Assert.Equal(5, json.RootElement.GetProperty("images")[0].GetProperty("top").GetArrayLength());
        Assert.Equal(File.ReadAllBytes(h5), File.ReadAllBytes(Path.Combine(Home, "models", MobileNetFile)));
    }

    [Fact]
    public async Task TwoProcessesFetchingOneFileLeaveOneGoodCopy()
    {
        byte[] bytes;
        using (var pretrained = MobileNetV2.Create(s_options))
        {
            PretrainedTestWeights.Perturb(pretrained);
            bytes = PretrainedTestWeights.SafeTensorsBytes(pretrained, _work);
        }
        _server.Serve(MobileNetPath + MobileNetFile, new(bytes));
        // A temporary file a killed download left behind is never taken for the cached file.
        Directory.CreateDirectory(Path.Combine(Home, "models"));
        File.WriteAllBytes(Path.Combine(Home, "models", MobileNetFile + ".0123.partial"), [1, 2, 3]);
        var runs = Enumerable.Range(0, 2)
            .Select(_ => Task.Run(() => CommandLineTool.Inspect.Run(["summary", "mobilenetv2", .. s_arch, "--weights", "imagenet"], Environment())))
            .ToArray();
        var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromMinutes(5));
        foreach (var result in results) Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(Home, "models", MobileNetFile)));
        Assert.Equal([MobileNetFile, MobileNetFile + ".0123.partial", MobileNetFile + ".sha256"], CachedFiles());
    }

    [Fact]
    public void AMissingFileOnTheServerFailsNamingTheUrlAndCachesNothing()
    {
        var result = CommandLineTool.Inspect.Run(["summary", "mobilenetv2", .. s_arch, "--weights", "imagenet"], Environment());
        AssertOneLineError(result, "HTTP 404", $"{_server.BaseUrl}{MobileNetPath}{MobileNetFile}");
        Assert.Empty(CachedFiles());
    }

    [Fact]
    public void AnUnreachableMirrorFailsNamingTheUrl()
    {
        string mirror = $"http://127.0.0.1:{TestWeightServer.ClosedPort()}/mirror";
        string image = Path.Combine(_work, "x.png");
        var result = CommandLineTool.Classify.Run(["--arch", "mobilenetv2", .. s_arch, "--weights", "imagenet", image], Environment(mirror));
        AssertOneLineError(result, $"{mirror}{MobileNetPath}{MobileNetFile}");
        Assert.Empty(CachedFiles());
    }

    [Fact]
    public void AHashMismatchFailsNamingTheUrlAndBothHashes()
    {
        _server.Serve("/keras-applications/efficientnetb0.h5", new([1, 2, 3, 4]));
        var result = CommandLineTool.Inspect.Run(["summary", "efficientnet-b0", "--resolution", "32", "--weights", "imagenet"], Environment());
        AssertOneLineError(result, $"{_server.BaseUrl}/keras-applications/efficientnetb0.h5", "902e53a9f72be733fc0bcb005b3ebbac", "08d6c05a21512a79a1dfeb9d2a8f262f");
        Assert.Empty(CachedFiles());
    }

    [Fact]
    public void ImageNetWithOptionsKerasRefusesIsAUsageError()
    {
        var result = CommandLineTool.Inspect.Run(["summary", "mobilenetv2", "--alpha", "0.6", "--weights", "imagenet"], Environment());
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("alpha", result.Stderr);
        Assert.Empty(_server.Requests);
    }
}
