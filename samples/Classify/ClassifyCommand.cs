using System.Globalization;
using System.Text.Json;
using NativeCnn.Imaging;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Weights.SafeTensors;

namespace NativeCnn.Samples.Classify;

/// <summary>Classifies images with a converted model or a builder plus weights, printing the top classes.</summary>
internal static class ClassifyCommand
{
    public const string Usage = """
        Classify: top-K image classification with a Keras model.

          Classify --model FILE [options] IMAGE...
          Classify --arch NAME [--alpha A] [--resolution N] --weights FILE [options] IMAGE...

        IMAGE: PNG, PPM/PGM or baseline JPEG, any size (resized to the model input as Keras's load_img does).
        --model: a NativeCnn .safetensors model file (weights-converter), or a Keras .h5/.keras or TF.js model.json.
        --arch/--weights: resnet50 ... efficientnet-b7 with weights from a .safetensors or Keras / TF.js file.
        options: --top K (5)  --preprocess caffe|tf|torch|none (by model family: ResNet caffe, MobileNetV2 tf,
                 EfficientNet none)  --interpolation nearest|bilinear (nearest, Keras's default)  --json
        Labels: ImageNet's for 1000 classes, or a 'labels' JSON array in the model file's metadata.
        """;

    /// <summary>Runs the command; returns the exit code (0 done, 1 a file could not be used, 2 bad arguments).</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        CommandExit.Run(() => Classify(args, stdout), Usage, stderr);

    private static int Classify(IReadOnlyList<string> args, TextWriter stdout)
    {
        var command = new CommandLine(args);
        if (args.Count == 0) throw new ArgumentException("Name a model and at least one image.");
        if (command.Flag("help")) { stdout.WriteLine(Usage); return CommandExit.Success; }
        string? modelFile = command.String("model"), arch = command.String("arch"), weights = command.String("weights");
        double alpha = command.Double("alpha", 1.0);
        int? resolution = command.String("resolution") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : null;
        int top = command.Int("top", 5);
        var preprocessing = command.String("preprocess") is { } p ? ParseMode(p) : (PreprocessingMode?)null;
        var interpolation = command.String("interpolation") switch
        {
            null or "nearest" => ResizeInterpolation.Nearest,
            "bilinear" => ResizeInterpolation.Bilinear,
            var other => throw new ArgumentException($"--interpolation must be nearest or bilinear, got '{other}'."),
        };
        bool json = command.Flag("json");
        command.RejectUnknown();
        if (command.Positional.Count == 0) throw new ArgumentException("Name at least one image.");
        if ((modelFile is null) == (arch is null)) throw new ArgumentException("Give either --model FILE or --arch NAME --weights FILE.");
        if (arch is not null && weights is null) throw new ArgumentException("--arch needs --weights FILE (random weights classify nothing).");

        IReadOnlyList<string>? labels = null;
        using var model = modelFile is not null
            ? LoadModel(modelFile, resolution, out labels)
            : LoadBuilder(arch!, alpha, resolution, weights!, out labels);
        var results = new List<(string Image, IReadOnlyList<ClassPrediction> Top)>();
        foreach (string path in command.Positional)
        {
            var image = ImageDecoder.Decode(path);
            results.Add((path, model.Classify(image, top, preprocessing, labels, interpolation)));
        }
        if (json) WriteJson(stdout, model, results);
        else WriteText(stdout, model, results);
        return CommandExit.Success;
    }

    private static Model LoadModel(string file, int? resolution, out IReadOnlyList<string>? labels)
    {
        labels = ModelSources.IsModelFile(file) ? StoredLabels(file) : null;
        return ModelSources.LoadModel(file, resolution);
    }

    private static Model LoadBuilder(string arch, double alpha, int? resolution, string weights, out IReadOnlyList<string>? labels)
    {
        labels = ModelSources.IsModelFile(weights) ? StoredLabels(weights) : null;
        var model = ModelZoo.Create(arch, new ApplicationOptions { Alpha = alpha, Resolution = resolution });
        try
        {
            ModelSources.LoadWeights(model, weights);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Class names a model file may carry in its metadata, as a JSON array under <c>labels</c>.</summary>
    private static IReadOnlyList<string>? StoredLabels(string file)
    {
        using var safeTensors = new SafeTensorsFile(file);
        if (!safeTensors.Metadata.TryGetValue("labels", out string? text)) return null;
        try
        {
            return JsonSerializer.Deserialize<string[]>(text) ?? throw new InvalidDataException($"{file}: metadata 'labels' is null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: metadata 'labels' is not a JSON array of strings: {e.Message}", e);
        }
    }

    private static PreprocessingMode ParseMode(string mode) => mode switch
    {
        "caffe" => PreprocessingMode.Caffe,
        "tf" => PreprocessingMode.Tf,
        "torch" => PreprocessingMode.Torch,
        "none" => PreprocessingMode.None,
        _ => throw new ArgumentException($"--preprocess must be caffe, tf, torch or none, got '{mode}'."),
    };

    private static void WriteText(TextWriter stdout, Model model, List<(string Image, IReadOnlyList<ClassPrediction> Top)> results)
    {
        foreach (var (image, top) in results)
        {
            stdout.WriteLine($"{image} ({model.Name}):");
            foreach (var p in top) stdout.WriteLine($"  {p.Probability,8:P2}  {p.ClassIndex,4}  {p.Label}");
        }
    }

    private static void WriteJson(TextWriter stdout, Model model, List<(string Image, IReadOnlyList<ClassPrediction> Top)> results)
    {
        var document = new
        {
            model = model.Name,
            images = results.Select(r => new
            {
                image = r.Image,
                top = r.Top.Select(p => new { index = p.ClassIndex, label = p.Label, probability = p.Probability }),
            }),
        };
        stdout.WriteLine(JsonSerializer.Serialize(document));
    }
}
