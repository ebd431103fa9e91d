using System.CommandLine;
using System.Text.Json;
using NativeCnn.Imaging;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Weights.SafeTensors;

namespace NativeCnn.Samples.Classify;

/// <summary>Classifies images with a converted model or a builder plus weights, printing the top classes (exit 0 all done, 1 an image or file failed, 2 a usage error).</summary>
internal static class ClassifyCommand
{
    /// <summary>The command line: options as before System.CommandLine, images as arguments.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand("""
            Classify: top-K image classification with a Keras model.
              Classify --model FILE [options] IMAGE...
              Classify --arch NAME [--alpha A] [--resolution N] --weights FILE|imagenet [options] IMAGE...
            IMAGE: JPEG (baseline or progressive), PNG or PPM/PGM, any size (resized to the model input as Keras's load_img
            does); GIF, WebP, BMP, TIFF, AVIF and HEIC are refused, naming the format. A file that fails is reported and the
            others are still classified (exit code 1), unless --fail-fast.
            Labels: ImageNet's for 1000 classes, or a 'labels' JSON array in the model file's metadata.
            --weights imagenet downloads Keras's published weights once into $NATIVECNN_HOME/models (default
            ~/.nativecnn/models), from $NATIVECNN_WEIGHTS_URL instead of Keras's host when that is set.
            """);
        var model = new Option<string?>("--model") { Description = "A NativeCnn .safetensors model file (weights-converter), or a Keras .h5/.keras or TF.js model.json." };
        var arch = new Option<string?>("--arch") { Description = "An architecture by Keras's name or ours (resnet50, mobilenetv3small, efficientnet-b0, efficientnetv2-s ...; 'Inspect archs' lists all), with --weights." };
        var weights = new Option<string?>("--weights") { Description = "The weights for --arch: 'imagenet' (Keras's published file, downloaded and cached), .safetensors, or a Keras / TF.js file." };
        var alpha = new Option<double>("--alpha") { Description = "The width multiplier of MobileNet, MobileNetV2 and MobileNetV3.", DefaultValueFactory = _ => 1.0 };
        var resolution = Cli.OptionalPositiveInt("--resolution", "Input height and width.");
        var top = Cli.PositiveInt("--top", "How many classes to print per image.", 5, 1, "-k");
        var preprocess = new Option<string?>("--preprocess") { Description = "caffe, tf, torch or none (by model family: ResNet caffe, MobileNetV2 tf, EfficientNet none)." };
        preprocess.AcceptOnlyFromAmong("caffe", "tf", "torch", "none");
        var interpolation = new Option<string>("--interpolation") { Description = "The resize filter (Keras's default is nearest).", DefaultValueFactory = _ => "nearest" };
        interpolation.AcceptOnlyFromAmong("nearest", "bilinear");
        var json = new Option<bool>("--json") { Description = "Machine-readable output." };
        var failFast = new Option<bool>("--fail-fast") { Description = "Stop at the first image that cannot be classified." };
        var images = Cli.RejectingOptions(new Argument<string[]>("IMAGE") { Description = "The images to classify.", Arity = ArgumentArity.OneOrMore });
        foreach (var option in new Option[] { model, arch, weights, alpha, resolution, top, preprocess, interpolation, json, failFast }) root.Options.Add(option);
        root.Arguments.Add(images);
        root.SetAction(r =>
        {
            string? modelFile = r.GetValue(model), archName = r.GetValue(arch), weightsFile = r.GetValue(weights);
            if ((modelFile is null) == (archName is null)) throw new UsageException("Give either --model FILE or --arch NAME --weights FILE.");
            if (archName is not null && weightsFile is null) throw new UsageException("--arch needs --weights FILE (random weights classify nothing).");
            if (archName is not null && !ModelZoo.TryResolve(archName, out _, out _, out _))
                throw new UsageException($"unknown architecture '{archName}'; expected one of: {string.Join(", ", ModelZoo.Names)}");
            var preprocessing = r.GetValue(preprocess) is { } p ? ParseMode(p) : (PreprocessingMode?)null;
            var filter = r.GetValue(interpolation) == "bilinear" ? ResizeInterpolation.Bilinear : ResizeInterpolation.Nearest;
            int k = r.GetValue(top);
            IReadOnlyList<string>? labels = null;
            using var built = modelFile is not null
                ? LoadModel(Cli.ExistingFile(modelFile, "model"), r.GetValue(resolution), out labels)
                : LoadBuilder(archName!, r.GetValue(alpha), r.GetValue(resolution), weightsFile!, Pretrained.ShowsProgress(r), out labels);
            var stdout = r.InvocationConfiguration.Output;
            var stderr = r.InvocationConfiguration.Error;
            var results = new List<(string Image, IReadOnlyList<ClassPrediction> Top)>();
            var failures = new List<(string Image, string Error)>();
            foreach (string path in r.GetValue(images)!)
            {
                try
                {
                    var image = ImageDecoder.Decode(Cli.ExistingFile(path, "image"));
                    results.Add((path, built.Classify(image, k, preprocessing, labels, filter)));
                }
                catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or UnauthorizedAccessException)
                {
                    failures.Add((path, e.Message.ReplaceLineEndings(" ")));
                    stderr.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
                    if (r.GetValue(failFast)) break;
                }
            }
            if (r.GetValue(json)) WriteJson(stdout, built, results, failures);
            else WriteText(stdout, built, results);
            return failures.Count == 0 ? Cli.Success : Cli.Failed;
        });
        return root;
    }

    private static Model LoadModel(string file, int? resolution, out IReadOnlyList<string>? labels)
    {
        labels = ModelSources.IsModelFile(file) ? StoredLabels(file) : null;
        return ModelSources.LoadModel(file, resolution);
    }

    private static Model LoadBuilder(string arch, double alpha, int? resolution, string weights, bool progress, out IReadOnlyList<string>? labels)
    {
        var options = new ApplicationOptions { Alpha = alpha, Resolution = resolution };
        labels = null;
        if (Pretrained.IsImageNet(weights)) return Pretrained.Create(arch, options, progress);
        Cli.ExistingFile(weights, "weights");
        labels = ModelSources.IsModelFile(weights) ? StoredLabels(weights) : null;
        var model = ModelZoo.Create(arch, options);
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
        _ => throw new UsageException($"--preprocess must be caffe, tf, torch or none, got '{mode}'"),
    };

    private static void WriteText(TextWriter stdout, Model model, List<(string Image, IReadOnlyList<ClassPrediction> Top)> results)
    {
        foreach (var (image, top) in results)
        {
            stdout.WriteLine($"{image} ({model.Name}):");
            foreach (var p in top) stdout.WriteLine($"  {p.Probability,8:P2}  {p.ClassIndex,4}  {p.Label}");
        }
    }

    private static void WriteJson(TextWriter stdout, Model model, List<(string Image, IReadOnlyList<ClassPrediction> Top)> results,
                                  List<(string Image, string Error)> failures)
    {
        var document = new
        {
            model = model.Name,
            images = results.Select(r => new
            {
                image = r.Image,
                top = r.Top.Select(p => new { index = p.ClassIndex, label = p.Label, probability = p.Probability }),
            }),
            errors = failures.Select(f => new { image = f.Image, error = f.Error }),
        };
        stdout.WriteLine(JsonSerializer.Serialize(document));
    }
}
