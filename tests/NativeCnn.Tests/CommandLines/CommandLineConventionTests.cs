using System.Text.Json;
using NativeCnn.Imaging;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;
using NativeCnn.Weights;

namespace NativeCnn.Tests.CommandLines;

/// <summary>
/// What every command line promises (help at once, exit 0; a usage error is one line naming the option, exit 2; a failed
/// operation is one line naming the file, exit 1; never a stack trace without --verbose), run as child processes.
/// </summary>
public sealed class CommandLineConventionTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-cli").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    public static TheoryData<string, string> ToolsAndHelpFlags()
    {
        var data = new TheoryData<string, string>();
        foreach (string tool in new[] { "Inspect", "Classify", "GpuCheck", "Train", "weights-converter" })
            foreach (string flag in new[] { "--help", "-h", "-?" }) data.Add(tool, flag);
        return data;
    }

    private static CommandLineTool Tool(string name) => name switch
    {
        "Inspect" => CommandLineTool.Inspect,
        "Classify" => CommandLineTool.Classify,
        "GpuCheck" => CommandLineTool.GpuCheck,
        "Train" => CommandLineTool.Train,
        _ => CommandLineTool.WeightsConverter,
    };

    private static void AssertOneLineError(CommandLineTool.Result result, int exitCode, params string[] contains)
    {
        Assert.True(result.ExitCode == exitCode, $"exit {result.ExitCode}, expected {exitCode}: {result.Stderr}");
        string error = result.Stderr.Trim();
        Assert.StartsWith("error: ", error);
        Assert.DoesNotContain('\n', error);
        Assert.DoesNotContain("   at ", error);
        foreach (string text in contains) Assert.Contains(text, error);
    }

    [Theory]
    [MemberData(nameof(ToolsAndHelpFlags))]
    public void HelpPrintsTheUsageAndExitsZeroAtOnce(string tool, string flag)
    {
        var result = Tool(tool).Run([flag], timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("Usage:", result.Stdout);
        Assert.Contains("--help", result.Stdout);
        Assert.DoesNotContain("device cpu", result.Stdout); // GpuCheck's help runs no check
        Assert.Equal("", result.Stderr);
    }

    [Theory]
    [InlineData("Inspect")]
    [InlineData("Classify")]
    [InlineData("GpuCheck")]
    [InlineData("Train")]
    [InlineData("weights-converter")]
    public void AnUnknownOptionIsAUsageErrorNamingIt(string tool) =>
        AssertOneLineError(Tool(tool).Run(["--no-such-option"]), 2, "--no-such-option");

    [Fact]
    public void AMissingFileIsReportedByItsPath()
    {
        string missing = Path.Combine(_work, "missing.h5");
        AssertOneLineError(CommandLineTool.Inspect.Run(["summary", "--model", missing]), 1, missing);
        AssertOneLineError(CommandLineTool.Classify.Run(["--model", missing, "x.png"]), 1, missing);
        AssertOneLineError(CommandLineTool.Train.Run(["--model", missing, "--dataset", "fashion-mnist"]), 1, missing);
        AssertOneLineError(CommandLineTool.WeightsConverter.Run([missing, "-o", Path.Combine(_work, "x.safetensors")]), 1, missing);
        AssertOneLineError(CommandLineTool.Inspect.Run(["run", "resnet50", "--input", missing, "--output", Path.Combine(_work, "y.npy")]), 1, missing);
    }

    [Fact]
    public void AFolderGivenAsAFileIsNamedAsAFolder()
    {
        AssertOneLineError(CommandLineTool.Classify.Run(["--model", _work, "x.png"]), 1, $"{_work} is a folder, not a file");
        AssertOneLineError(CommandLineTool.WeightsConverter.Run([_work, "-o", Path.Combine(_work, "x.safetensors")]), 1, "is a folder");
    }

    [Theory]
    [InlineData("Classify", new[] { "--model", "m.safetensors", "--top", "0", "x.png" }, "--top must be at least 1, got 0")]
    [InlineData("Classify", new[] { "--model", "m.safetensors", "--top", "abc", "x.png" }, "'abc' for option '--top'")]
    [InlineData("Classify", new[] { "--model", "m.safetensors", "-t", "3", "x.png" }, "Unrecognized option '-t'")]
    [InlineData("Classify", new[] { "--model", "m.safetensors", "--preprocess", "foo", "x.png" }, "'foo'")]
    [InlineData("Classify", new[] { "--arch", "resnet50", "x.png" }, "--arch needs --weights FILE")]
    [InlineData("GpuCheck", new[] { "--batches", "abc" }, "--batches takes positive integers, got 'abc'")]
    [InlineData("GpuCheck", new[] { "--models", "nosuch" }, "unknown architecture 'nosuch'")]
    [InlineData("GpuCheck", new[] { "--devices", "foo" }, "--devices")]
    [InlineData("Inspect", new[] { "profile", "efficientnet-b0", "--runs", "0" }, "--runs must be at least 1, got 0")]
    [InlineData("Inspect", new[] { "profile", "efficientnet-b0", "--batch", "x" }, "'x' for option '--batch'")]
    [InlineData("Inspect", new[] { "summary", "nosuch" }, "unknown architecture 'nosuch'")]
    [InlineData("Inspect", new[] { "summary", "resnet50", "--resolution", "0" }, "--resolution must be at least 1, got 0")]
    [InlineData("weights-converter", new[] { "in.h5" }, "--output")]
    public void BadValuesAreUsageErrorsNamingTheOptionAndTheValue(string tool, string[] arguments, string message) =>
        AssertOneLineError(Tool(tool).Run(arguments), 2, message);

    [Fact]
    public void GpuCheckWithNoUsableDeviceFailsWithTheReason()
    {
        var result = CommandLineTool.GpuCheck.Run(["--devices", "cuda:99", "--no-benchmark"], new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = _work });
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error: no GPU device to check (cuda:99", result.Stderr);
        Assert.DoesNotContain("passed", result.Stdout);
    }

    [Fact]
    public void VerboseAddsTheStackTrace()
    {
        var result = CommandLineTool.Inspect.Run(["summary", "--model", Path.Combine(_work, "missing.h5"), "--verbose"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("   at ", result.Stderr);
    }

    [Fact]
    public void ClassifyReportsABadImageAndStillClassifiesTheOthersUnlessFailFast()
    {
        using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 32, Classes = 3 });
        string file = Path.Combine(_work, "three.safetensors");
        ModelFile.Save(model, file, metadata: new Dictionary<string, string> { ["labels"] = """["cat", "dog", "fox"]""" });
        string good = Path.Combine(_work, "good.ppm"), bad = Path.Combine(_work, "bad.jpg"), gif = Path.Combine(_work, "other.gif");
        File.WriteAllBytes(good, [.. System.Text.Encoding.ASCII.GetBytes("P6\n4 3\n255\n"), .. Enumerable.Range(0, 36).Select(i => (byte)(i * 7))]);
        File.WriteAllBytes(bad, [0xFF, 0xD8, 0xFF, 0xC0, 0x00]);
        File.WriteAllBytes(gif, System.Text.Encoding.ASCII.GetBytes("GIF89a......"));

        var all = CommandLineTool.Classify.Run(["--model", file, "--json", good, bad, gif, good]);
        Assert.Equal(1, all.ExitCode);
        using var json = JsonDocument.Parse(all.Stdout);
        Assert.Equal(2, json.RootElement.GetProperty("images").GetArrayLength());
        var errors = json.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("image").GetString()!).ToArray();
        Assert.Equal([bad, gif], errors);
        Assert.Contains(bad, all.Stderr);
        Assert.Contains("GIF", all.Stderr);

        var fast = CommandLineTool.Classify.Run(["--model", file, "--json", "--fail-fast", good, bad, good]);
        Assert.Equal(1, fast.ExitCode);
        using var fastJson = JsonDocument.Parse(fast.Stdout);
        Assert.Equal(1, fastJson.RootElement.GetProperty("images").GetArrayLength());
        Assert.Single(fastJson.RootElement.GetProperty("errors").EnumerateArray());
    }

    [Fact]
    public void InspectRunsAnImageAsTheModelsPreprocessedInput()
    {
        var image = new RgbImage(40, 30, [.. Enumerable.Range(0, 40 * 30 * 3).Select(i => (byte)(i * 31 % 256))]);
        string png = Path.Combine(_work, "image.png");
        PngEncoder.Write(png, image);
        using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 32 });
        using (var x = model.PrepareInput(image)) NpyFile.Write(Path.Combine(_work, "x.npy"), x);

        string[] arch = ["mobilenet_v2", "--alpha", "0.35", "--resolution", "32"];
        var fromImage = CommandLineTool.Inspect.Run(["run", .. arch, "--input", png, "--output", Path.Combine(_work, "from-image.npy")]);
        Assert.True(fromImage.ExitCode == 0, fromImage.Stderr);
        var fromNpy = CommandLineTool.Inspect.Run(["run", .. arch, "--input", Path.Combine(_work, "x.npy"), "--output", Path.Combine(_work, "from-npy.npy")]);
        Assert.True(fromNpy.ExitCode == 0, fromNpy.Stderr);
        using var a = NpyFile.Read(Path.Combine(_work, "from-image.npy"));
        using var b = NpyFile.Read(Path.Combine(_work, "from-npy.npy"));
        Assert.Equal(b.Span.ToArray(), a.Span.ToArray());
        Assert.Equal(new TensorShape(1, 1000), a.Shape);
    }

    [Fact]
    public void InspectProfileSaysHowManyRunsItTimedAndItsJsonParses()
    {
        var text = CommandLineTool.Inspect.Run(["profile", "mobilenetv2", "--alpha", "0.35", "--resolution", "32", "--runs", "4"]);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("median of 4 timed runs after", text.Stdout);
        // Every table row is as wide as the header: the columns fit the longest fused type names.
        var rows = text.Stdout.Split('\n').Where(l => l.Contains("Conv2D", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.Equal(rows[0].TrimEnd().Length, r.TrimEnd().Length));

        var json = CommandLineTool.Inspect.Run(["profile", "mobilenetv2", "--alpha", "0.35", "--resolution", "32", "--runs", "3", "--json"]);
        Assert.True(json.ExitCode == 0, json.Stderr);
        using var document = JsonDocument.Parse(json.Stdout);
        Assert.Equal(3, document.RootElement.GetProperty("runs").GetInt32());
        Assert.True(document.RootElement.GetProperty("warmup_runs").GetInt32() >= 5);
        Assert.Equal("", json.Stderr);
    }

    [Fact]
    public void EveryZooModelIsAcceptedByItsKerasNameAndByItsModelName()
    {
        foreach (string name in ModelZoo.Names)
        {
            Assert.True(ModelZoo.TryResolve(name, out string canonical, out _, out _), name);
            Assert.Equal(name, canonical);
            Assert.True(ModelZoo.TryResolve(name.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant(), out canonical, out _, out _), name);
            Assert.Equal(name, canonical);
        }
        for (int b = 0; b < 8; b++)
        {
            Assert.True(ModelZoo.TryResolve($"efficientnetb{b}", out string canonical, out _, out _));
            Assert.Equal($"efficientnet-b{b}", canonical);
        }
        foreach (var (name, options) in new (string, ApplicationOptions)[]
                 {
                     ("resnet50", new() { Resolution = 32 }), ("mobilenetv2", new() { Alpha = 0.35, Resolution = 96 }),
                     ("efficientnet-b0", new() { Resolution = 32 }), ("mobilenet_v2", new() { Resolution = 32 }),
                 })
        {
            using var model = ModelZoo.Create(name, options);
            using var again = ModelZoo.Create(model.Name, name.StartsWith("mobilenet", StringComparison.Ordinal) ? null : options);
            Assert.Equal(model.Name, again.Name);
            Assert.Equal(model.ParameterCount, again.ParameterCount);
            Assert.Equal(model.Input.OutputShape, again.Input.OutputShape);
        }
        Assert.Equal("mobilenetv2_0.35_96", ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 96 }).Name);
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("mobilenetv2_0.35_96", new ApplicationOptions { Alpha = 0.5 }));
        Assert.False(ModelZoo.TryResolve("efficientnet-b9", out _, out _, out _));
    }
}
