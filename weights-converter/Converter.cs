using System.Diagnostics;
using System.Globalization;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Samples;
using NativeCnn.Weights;
using NativeCnn.Weights.Keras;

namespace NativeCnn.WeightsConverter;

/// <summary>The converter's command: Keras / TensorFlow.js model in, NativeCnn model file (safetensors) out.</summary>
internal static class Converter
{
    public const string Usage = """
        weights-converter: Keras and TensorFlow.js models to NativeCnn's safetensors model file.

          weights-converter INPUT -o OUTPUT.safetensors [--arch NAME [--alpha A] [--resolution N]] [--height H --width W]

        INPUT: Keras 2 .h5 (model.save or save_weights), Keras 3 .keras or .weights.h5, or a TensorFlow.js model.json
               (its weight shards next to it); the format is recognized from the content.
        --arch: for weights-only files (no model config inside), the NativeCnn builder to load them into:
               resnet50 resnet101 resnet152 mobilenetv2 efficientnet-b0 ... efficientnet-b7.
        --height/--width: input size, when the stored config leaves it open (None) or to override it.
        """;

    /// <summary>Runs the command; returns the process exit code (0 done, 1 conversion failed, 2 bad arguments).</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        CommandExit.Run(() => Convert(args, stdout, stderr), Usage, stderr);

    private static int Convert(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var command = new CommandLine(args.Select(a => a == "-o" ? "--output" : a));
        if (command.Flag("help")) { stdout.WriteLine(Usage); return CommandExit.Success; }
        string output = command.String("output") ?? throw new ArgumentException("Name the output file with -o OUTPUT.safetensors.");
        string? arch = command.String("arch");
        double alpha = command.Double("alpha", 1.0);
        int? resolution = command.String("resolution") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : null;
        int? height = command.String("height") is { } h ? int.Parse(h, CultureInfo.InvariantCulture) : null;
        int? width = command.String("width") is { } w ? int.Parse(w, CultureInfo.InvariantCulture) : null;
        command.RejectUnknown();
        if (command.Positional.Count != 1) throw new ArgumentException($"Give exactly one input file, got {command.Positional.Count}.");
        Convert(command.Positional[0], output, arch, new ApplicationOptions { Alpha = alpha, Resolution = resolution }, height, width, stdout, stderr);
        return CommandExit.Success;
    }

    private static void Convert(string input, string output, string? arch, ApplicationOptions options, int? height, int? width,
                                TextWriter stdout, TextWriter stderr)
    {
        var clock = Stopwatch.StartNew();
        long inputBytes = InputSize(input);
        stderr.WriteLine($"reading {input} ({inputBytes / 1e6:F1} MB) ...");
        var keras = KerasFile.Read(input);
        int weightCount = keras.Weights.Count();
        stderr.WriteLine($"  {keras.Format}: {keras.Layers.Count} layers, {weightCount} weights ({Elapsed(clock)})");

        Model model;
        string config;
        if (arch is not null)
        {
            if (height is not null || width is not null) throw new ArgumentException("--height/--width apply to files with a config; use --resolution with --arch.");
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
                throw new ArgumentException($"{input} holds weights only ({keras.Format}); name the architecture with --arch.");
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

    private static long InputSize(string input)
    {
        var info = new FileInfo(input);
        if (!info.Exists) throw new FileNotFoundException($"No such file: {input}", input);
        return info.Length;
    }

    private static string Elapsed(Stopwatch clock) => $"{clock.Elapsed.TotalSeconds:F1} s";
}
