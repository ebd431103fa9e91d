using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Imaging;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;

namespace NativeCnn.Samples.Inspect;

/// <summary>The <c>Inspect</c> command line: summary, profile, train-step, run, activations and archs of Keras architectures.</summary>
internal static class InspectCommands
{
    private const string DefaultArch = "efficientnet-b0";

    public static RootCommand Create()
    {
        var root = new RootCommand("""
            Inspect: look inside Keras architectures built by NativeCnn.
            Without a command: summary, then profile, of efficientnet-b0.
            """);
        root.Subcommands.Add(SummaryCommand());
        root.Subcommands.Add(ProfileCommand());
        root.Subcommands.Add(RunCommand());
        root.Subcommands.Add(ActivationsCommand());
        root.Subcommands.Add(TrainStepCommand.Create());
        var archs = new Command("archs", "List the architecture names (Keras's names, e.g. efficientnetb0 or mobilenet_v2, work too).");
        archs.SetAction(r => { foreach (string name in ModelZoo.Names) r.InvocationConfiguration.Output.WriteLine(name); return Cli.Success; });
        root.Subcommands.Add(archs);
        root.SetAction(r =>
        {
            var output = r.InvocationConfiguration.Output;
            using (var model = ModelZoo.Create(DefaultArch)) Summary(model, json: false, plot: null, output);
            output.WriteLine();
            using var profiled = ModelZoo.Create(DefaultArch);
            Profile(profiled, new ProfileSettings(Batch: 1, Threads: Environment.ProcessorCount, Runs: null, LayerByLayer: false, Json: false, Plot: null), output);
            return Cli.Success;
        });
        return root;
    }

    private static Command SummaryCommand()
    {
        var command = new Command("summary", "Print the Keras-style summary: every layer, its output shape and parameters.");
        var model = new ModelArguments(command);
        var json = new Option<bool>("--json") { Description = "Machine-readable output." };
        var plot = new Option<string?>("--plot") { Description = "Also draw the layer graph as SVG (blocks collapsed, shapes on the edges)." };
        command.Options.Add(json);
        command.Options.Add(plot);
        command.SetAction(r =>
        {
            using var built = model.Build(r);
            Summary(built, r.GetValue(json), r.GetValue(plot), r.InvocationConfiguration.Output);
            return Cli.Success;
        });
        return command;
    }

    private static void Summary(Model model, bool json, string? plot, TextWriter output)
    {
        var summary = model.Summary();
        output.WriteLine(json ? summary.ToJson() : summary.ToString());
        if (plot is not null) Pictures.WriteGraph(model, plot, json ? TextWriter.Null : output);
    }

    private sealed record ProfileSettings(int Batch, int Threads, int? Runs, bool LayerByLayer, bool Json, string? Plot);

    private static Command ProfileCommand()
    {
        var command = new Command("profile", """
            Time the fused plan (convolution + BatchNormalization + activation + residual add, squeeze-and-excitation as single
            steps) layer by layer: after a warm-up, as many runs as a stable median needs (at least 10 and 3 seconds, at most
            100), or exactly --runs.
            """);
        var model = new ModelArguments(command);
        var batch = Cli.PositiveInt("--batch", "Images per run.", 1);
        var threads = Cli.PositiveInt("--threads", "CPU threads.", Environment.ProcessorCount);
        var runs = Cli.OptionalPositiveInt("--runs", "Timed runs (default: enough for a stable median).");
        var layers = new Option<bool>("--layers") { Description = "Time every layer on its own instead of the fused plan." };
        var json = new Option<bool>("--json") { Description = "Machine-readable output (no progress)." };
        var plot = new Option<string?>("--plot") { Description = "Also draw per-layer time and GFLOP/s bars to FILE (.svg or .png)." };
        foreach (var option in new Option[] { batch, threads, runs, layers, json, plot }) command.Options.Add(option);
        command.SetAction(r =>
        {
            using var built = model.Build(r);
            Profile(built, new ProfileSettings(r.GetValue(batch), r.GetValue(threads), r.GetValue(runs), r.GetValue(layers), r.GetValue(json), r.GetValue(plot)),
                    r.InvocationConfiguration.Output);
            return Cli.Success;
        });
        return command;
    }

    private static void Profile(Model model, ProfileSettings settings, TextWriter output)
    {
        using var backend = new CpuBackend(settings.Threads);
        using var plan = model.CreatePlan(backend, settings.Batch, fuse: !settings.LayerByLayer);
        plan.Input.CopyFrom(TestImage(plan.Input.Shape, seed: 1));
        var (totals, perStep, warmUps) = Time(plan, settings.Runs, Cli.ShowsProgress(settings.Json), model.Name);
        int runs = totals.Count;
        double medianTotal = Median(totals);
        var rows = plan.Steps.Select((step, s) => (step, ms: Median(perStep[s]))).ToArray();
        double stepSum = rows.Sum(r => r.ms);

        if (settings.Json)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream))
            {
                writer.WriteStartObject();
                writer.WriteString("model", model.Name);
                writer.WriteString("backend", backend.Name);
                writer.WriteNumber("batch", settings.Batch);
                writer.WriteNumber("runs", runs);
                writer.WriteNumber("warmup_runs", warmUps);
                writer.WriteNumber("median_ms", medianTotal);
                writer.WriteNumber("image_threads", plan.ImageThreads);
                writer.WriteNumber("images_per_pass", plan.ImagesPerPass);
                writer.WriteNumber("activation_bytes", plan.ActivationBytes);
                writer.WriteNumber("activation_bytes_without_reuse", plan.ActivationBytesWithoutReuse);
                writer.WriteStartArray("layers");
                foreach (var (step, ms) in rows)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", step.Name);
                    writer.WriteString("type", StepType(step));
                    writer.WriteNumber("median_ms", ms);
                    writer.WriteNumber("share", stepSum > 0 ? ms / stepSum : 0);
                    writer.WriteNumber("gflops", GigaFlops(step.MultiplyAccumulates, ms));
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        }
        else
        {
            output.WriteLine($"Profile of {model.Name} on {backend.Name}, batch {settings.Batch}: median of {runs} timed runs after {warmUps} warm-up runs");
            var table = new TextTable(("layer", false), ("type", false), ("ms", true), ("share", true), ("GFLOP/s", true));
            foreach (var (step, ms) in rows)
            {
                string gflops = step.MultiplyAccumulates > 0 ? $"{GigaFlops(step.MultiplyAccumulates, ms):F1}" : "";
                table.Add(step.Name, StepType(step), $"{ms:F3}", $"{(stepSum > 0 ? ms / stepSum : 0):P1}", gflops);
            }
            table.Write(output);
            long macs = plan.Steps.Sum(s => s.MultiplyAccumulates);
            string imageThreads = plan.ImageThreads > 1 ? $", {plan.ImageThreads} threads of {settings.Batch / plan.ImageThreads} images" : "";
            string passes = imageThreads + (plan.ImagesPerPass < settings.Batch / plan.ImageThreads ? $", in passes of {plan.ImagesPerPass} images" : "");
            output.WriteLine($"Median latency: {medianTotal:F2} ms per batch of {settings.Batch}{passes} ({GigaFlops(macs, medianTotal):F1} GFLOP/s overall, {macs / 1e9:F3} GMACs)");
            output.WriteLine($"Activation memory: {Megabytes(plan.ActivationBytes)} ({Megabytes(plan.ActivationBytesWithoutReuse)} with one buffer per step)");
        }
        if (settings.Plot is not null)
        {
            var bars = rows.Select(r => new Visualization.ProfileBar(r.step.Name, StepType(r.step), r.ms, GigaFlops(r.step.MultiplyAccumulates, r.ms))).ToArray();
            Pictures.WriteProfile(bars, $"{model.Name} on {backend.Name}, batch {settings.Batch}, median of {runs} runs", settings.Plot,
                                  settings.Json ? TextWriter.Null : output);
        }
    }

    /// <summary>
    /// Warm-up until the JIT has promoted the kernels to optimized code (tiering takes some calls and a background compile)
    /// and buffers are touched: at least 5 runs and half a second. Then <paramref name="runs"/> timed runs, or by default
    /// runs until there are at least 10 and 3 seconds of them, at most 100.
    /// </summary>
    private static (List<double> Totals, List<double>[] PerStep, int WarmUps) Time(ExecutionPlan plan, int? runs, bool progress, string name)
    {
        const int MinimumRuns = 10, MaximumRuns = 100;
        var totals = new List<double>();
        var perStep = plan.Steps.Select(_ => new List<double>()).ToArray();
        int warmUps = 0;
        ProgressDisplay.Run(progress, $"profiling {name}: warm-up", runs ?? MinimumRuns, step =>
        {
            var warmUp = Stopwatch.StartNew();
            for (; warmUps < 5 || warmUp.ElapsedMilliseconds < 500; warmUps++) plan.Run();
            var timing = Stopwatch.StartNew();
            bool first = true;
            while (runs is { } n ? totals.Count < n : totals.Count < MinimumRuns || (timing.Elapsed.TotalSeconds < 3 && totals.Count < MaximumRuns))
            {
                long start = Stopwatch.GetTimestamp();
                plan.RunProfiled();
                totals.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                for (int s = 0; s < perStep.Length; s++) perStep[s].Add(plan.Steps[s].LastMilliseconds);
                step(first ? $"profiling {name}: timed runs" : null);
                first = false;
            }
        });
        return (totals, perStep, warmUps);
    }

    private static Command RunCommand()
    {
        var command = new Command("run", "Run the model on an input (.npy, or an image: decoded, resized and preprocessed for the model's family).");
        var model = new ModelArguments(command);
        var input = new Option<string?>("--input") { Description = "x.npy (NHWC float32; a model with an open input size runs at its size) or an image (JPEG, PNG, PPM/PGM: resized to the model input); seeded random when absent." };
        var output = new Option<string>("--output") { Description = "Where the output goes (.npy).", Required = true };
        var activations = new Option<string?>("--activations") { Description = "Comma-separated layer names whose outputs are saved too." };
        var dumpDir = new Option<string?>("--dump-dir") { Description = "The folder for --activations (LAYER.npy each)." };
        foreach (var option in new Option[] { input, output, activations, dumpDir }) command.Options.Add(option);
        command.SetAction(r =>
        {
            string? inputPath = r.GetValue(input), activationList = r.GetValue(activations), dump = r.GetValue(dumpDir);
            if ((activationList is null) != (dump is null)) throw new UsageException("--activations and --dump-dir go together.");
            if (inputPath is not null) Cli.ExistingFile(inputPath);
            using var loaded = model.Build(r);
            using var x = inputPath is null
                ? Tensor.FromArray(TestImage(loaded.Input.OutputShape, seed: 1), loaded.Input.OutputShape)
                : ReadInput(loaded, inputPath);
            var inputLayer = (InputLayer)loaded.Input.Layer;
            if (!inputLayer.Accepts(x.Shape))
                throw new InvalidDataException($"{loaded.Input.Name}: expected input {inputLayer.ToKerasString()}, got {x.Shape} from {inputPath}.");
            // A model with an open input size (None) runs at the size of the array it is given, as Keras does.
            using var resized = x.Shape.WithBatch(1) != loaded.Input.OutputShape ? loaded.WithInputSize(x.Shape.Height, x.Shape.Width) : null;
            var built = resized ?? loaded;

            var stdout = r.InvocationConfiguration.Output;
            using var backend = new CpuBackend();
            // Requested activations need every layer's output kept, so such a run goes layer by layer.
            using var plan = built.CreatePlan(backend, x.Shape.Batch, fuse: activationList is null);
            plan.Input.CopyFrom(x.Span);
            plan.Run();
            string outputPath = r.GetValue(output)!;
            Save(plan.Output, outputPath);
            stdout.WriteLine($"{built.Name}: wrote {plan.Output.Shape} to {outputPath}");
            if (activationList is null) return Cli.Success;
            Directory.CreateDirectory(dump!);
            foreach (string name in Cli.List(activationList))
            {
                string path = Path.Combine(dump!, name + ".npy");
                var shape = Activation(plan, name).Shape;
                plan.SaveActivation(name, path);
                stdout.WriteLine($"  {name}: {shape} -> {path}");
            }
            return Cli.Success;
        });
        return command;
    }

    private static Command ActivationsCommand()
    {
        var command = new Command("activations", "Draw one layer's activation map for an image as a PNG grid of its channels.");
        var model = new ModelArguments(command);
        var image = new Option<string>("--image") { Description = "The image (JPEG, PNG, PPM/PGM), any size.", Required = true };
        var layer = new Option<string>("--layer") { Description = "The layer whose output is drawn.", Required = true };
        var png = new Option<string>("--png") { Description = "The picture to write (.png).", Required = true };
        var maxChannels = Cli.PositiveInt("--max-channels", "At most this many channels (the first ones).", 256);
        foreach (var option in new Option[] { image, layer, png, maxChannels }) command.Options.Add(option);
        command.SetAction(r =>
        {
            string imagePath = Cli.ExistingFile(r.GetValue(image)!, "image");
            using var built = model.Build(r);
            string layerName = r.GetValue(layer)!;
            if (built.Layers.All(l => l.Name != layerName))
                throw new UsageException($"{built.Name} has no layer '{layerName}' (see 'summary' for the names).");
            using var x = built.PrepareInput(ImageDecoder.Decode(imagePath));
            using var backend = new CpuBackend();
            using var plan = built.CreatePlan(backend, 1, fuse: false);
            plan.Input.CopyFrom(x.Span);
            plan.Run();
            Activation(plan, layerName);
            using var activation = plan.ReadActivation(layerName);
            string pngPath = r.GetValue(png)!;
            Pictures.WriteActivations(activation, r.GetValue(maxChannels), pngPath, r.InvocationConfiguration.Output);
            return Cli.Success;
        });
        return command;
    }

    private static IDeviceBuffer Activation(ExecutionPlan plan, string name)
    {
        try
        {
            return plan.GetActivation(name);
        }
        catch (KeyNotFoundException)
        {
            throw new UsageException($"{plan.Model.Name} has no layer '{name}' (see 'summary' for the names).");
        }
    }

    /// <summary>A .npy tensor as it is, or any other file decoded as an image and prepared for the model.</summary>
    private static Tensor ReadInput(Model model, string path) =>
        path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? NpyFile.Read(path) : model.PrepareInput(ImageDecoder.Decode(path));

    // A fused step reads as its layers' classes, shortened ("Conv2D+BN+Activation"); a fused SE block as SqueezeExcitation.
    private static string StepType(PlanStep step)
    {
        var names = step.Layers.Select(n => n.Layer.ClassName switch
        {
            "BatchNormalization" => "BN",
            "GlobalAveragePooling2D" => "GAP",
            var other => other,
        });
        return step.Layers[0].Layer is GlobalAveragePooling2D && step.Layers.Count > 1 ? "SqueezeExcitation" : string.Join("+", names);
    }

    private static void Save(IDeviceBuffer buffer, string path)
    {
        using var host = new Tensor(buffer.Shape);
        buffer.CopyTo(host.Span);
        NpyFile.Write(path, host);
    }

    // A deterministic image-like input: values in [0, 255], the range the models' preprocessing expects.
    private static float[] TestImage(TensorShape shape, int seed)
    {
        var random = new Random(seed);
        var data = new float[shape.ElementCount];
        for (int i = 0; i < data.Length; i++) data[i] = random.NextSingle() * 255f;
        return data;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static string Megabytes(long bytes) => $"{bytes / (1024.0 * 1024.0):F1} MiB";

    private static double GigaFlops(long multiplyAccumulates, double milliseconds) =>
        milliseconds > 0 ? 2.0 * multiplyAccumulates / (milliseconds * 1e6) : 0;
}
