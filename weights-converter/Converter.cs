using System.Diagnostics;
using System.CommandLine;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Samples;
using NativeCnn.Weights;
using NativeCnn.Weights.Keras;

namespace NativeCnn.WeightsConverter;

/// <summary>The converter's command: Keras / TensorFlow.js model in, NativeCnn model file (safetensors) out.</summary>
internal static class Converter
{
    /// <summary>The command line: <c>weights-converter INPUT -o OUTPUT [--arch NAME ...] [--height H --width W]</c>.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand("""
            weights-converter: Keras and TensorFlow.js models to NativeCnn's safetensors model file.
            INPUT: Keras 2 .h5 (model.save or save_weights), Keras 3 .keras or .weights.h5, or a TensorFlow.js model.json
            (its weight shards next to it); the format is recognized from the content.
            """);
        var input = Cli.RejectingOptions(new Argument<string>("INPUT") { Description = "The Keras or TensorFlow.js file." });
        var output = new Option<string>("--output", "-o") { Description = "The NativeCnn model file to write (.safetensors).", Required = true };
        var arch = new Option<string?>("--arch") { Description = "For weights-only files (no model config inside), the builder to load them into: resnet50 ... efficientnet-b7 (Keras's names too)." };
        var alpha = new Option<double>("--alpha") { Description = "MobileNetV2's width multiplier, with --arch.", DefaultValueFactory = _ => 1.0 };
        var resolution = Cli.OptionalPositiveInt("--resolution", "Input height and width, with --arch.");
        var height = Cli.OptionalPositiveInt("--height", "Input height, when the stored config leaves it open (None) or to override it.");
        var width = Cli.OptionalPositiveInt("--width", "Input width, as --height.");
        root.Arguments.Add(input);
        foreach (var option in new Option[] { output, arch, alpha, resolution, height, width }) root.Options.Add(option);
        root.SetAction(r =>
        {
            string? archName = r.GetValue(arch);
            if (archName is not null && !ModelZoo.TryResolve(archName, out _, out _, out _))
                throw new UsageException($"unknown architecture '{archName}'; expected one of: {string.Join(", ", ModelZoo.Names)}");
            Convert(Cli.ExistingFile(r.GetValue(input)!), r.GetValue(output)!, archName,
                    new ApplicationOptions { Alpha = r.GetValue(alpha), Resolution = r.GetValue(resolution) }, r.GetValue(height), r.GetValue(width),
                    r.InvocationConfiguration.Output, r.InvocationConfiguration.Error);
            return Cli.Success;
        });
        return root;
    }

    private static void Convert(string input, string output, string? arch, ApplicationOptions options, int? height, int? width,
                                TextWriter stdout, TextWriter stderr)
    {
        var clock = Stopwatch.StartNew();
        long inputBytes = new FileInfo(input).Length;
        stderr.WriteLine($"reading {input} ({inputBytes / 1e6:F1} MB) ...");
        var keras = KerasFile.Read(input);
        int weightCount = keras.Weights.Count();
        stderr.WriteLine($"  {keras.Format}: {keras.Layers.Count} layers, {weightCount} weights ({Elapsed(clock)})");

        Model model;
        string config;
        if (arch is not null)
        {
            if (height is not null || width is not null) throw new UsageException("--height/--width apply to files with a config; use --resolution with --arch.");
            model = ModelZoo.Create(arch, options);
            stderr.WriteLine($"loading the weights into the {model.Name} builder ...");
            try
            {
                keras.LoadInto(model);
                config = KerasModelConfig.ToJson(model);
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        else
        {
            if (keras.ModelConfigJson is null)
                throw new UsageException($"{input} holds weights only ({keras.Format}); name the architecture with --arch.");
            stderr.WriteLine("building the model from its config and loading the weights ...");
            model = keras.BuildModel(height, width);
            // The stored config is the file's own when the input size was not overridden, so nothing of it is lost.
            config = height is null && width is null ? keras.ModelConfigJson : KerasModelConfig.ToJson(model);
        }
        using (model)
        {
            stderr.WriteLine($"writing {output} ...");
            ModelFile.Save(model, output, config, new Dictionary<string, string>
            {
                ["source"] = Path.GetFileName(input),
                ["source_format"] = keras.Format,
                ["converter"] = $"NativeCnn weights-converter {typeof(ModelFile).Assembly.GetName().Version}",
            });
            stdout.WriteLine($"{model.Name}: {model.Layers.Count} layers, {model.Weights.Count()} weights, {model.ParameterCount:N0} parameters " +
                             $"({model.TrainableParameterCount:N0} trainable), input {model.Input.OutputShape.ToKerasString()}, " +
                             $"output {model.Output.OutputShape.ToKerasString()}");
            stdout.WriteLine($"{keras.Format} {input} -> {output} ({new FileInfo(output).Length / 1e6:F1} MB) in {Elapsed(clock)}");
        }
    }

    private static string Elapsed(Stopwatch clock) => $"{clock.Elapsed.TotalSeconds:F1} s";
}
