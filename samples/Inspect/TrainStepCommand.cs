using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using NativeCnn.Backends.Cpu;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Training;
using NativeCnn.Weights.Keras;

namespace NativeCnn.Samples.Inspect;

/// <summary>
/// <c>Inspect train-step</c>: times training steps (forward in training mode, loss, backward, optimizer update) of a
/// zoo architecture or of <see cref="ExampleModels.FashionMnistCnn"/> on seeded random weights and inputs, and reads the
/// process's peak memory; <c>benchmarks/compare/train</c> runs it next to PyTorch.
/// </summary>
internal static class TrainStepCommand
{
    /// <summary>The name that selects <see cref="ExampleModels.FashionMnistCnn"/> (28×28×1, 10 classes).</summary>
    public const string FashionMnistCnn = "fashion-mnist-cnn";

    public static Command Create()
    {
        var command = new Command("train-step", $"""
            Time training steps (forward in training mode, sparse categorical cross-entropy, backward, optimizer update) on
            seeded random weights, inputs and labels: --warmup steps, then --steps timed steps; prints the median step time and
            the peak resident memory of the process while the plan is built and stepped (VmHWM, reset just before the plan).
            The model: a zoo architecture (see 'archs') or {FashionMnistCnn}.
            """);
        var arch = new Argument<string>("arch") { Description = $"A zoo architecture (mobilenetv2, efficientnet-b0, ...) or {FashionMnistCnn}." };
        var alpha = new Option<double>("--alpha") { Description = "MobileNetV2's width multiplier.", DefaultValueFactory = _ => 1.0 };
        var resolution = Cli.OptionalPositiveInt("--resolution", "Input height and width (zoo architectures).");
        var batch = Cli.PositiveInt("--batch", "Samples per step.", 16);
        var threads = Cli.PositiveInt("--threads", "CPU threads.", Environment.ProcessorCount);
        var steps = Cli.PositiveInt("--steps", "Timed steps.", 5);
        var warmup = Cli.PositiveInt("--warmup", "Untimed steps first (JIT tiering, first touch of the buffers).", 2, minimum: 0);
        var optimizer = new Option<string>("--optimizer") { Description = "sgd (momentum 0.9) or adam.", DefaultValueFactory = _ => "sgd" };
        var learningRate = new Option<double>("--learning-rate") { Description = "The optimizer's learning rate.", DefaultValueFactory = _ => 0.01 };
        var layers = new Option<bool>("--layers") { Description = "Also time every layer's forward and backward pass (medians over the timed steps)." };
        var writeConfig = new Option<string?>("--write-config") { Description = "Write the model's Keras config (JSON) to FILE, for a peer to build the same architecture, and exit." };
        var json = new Option<bool>("--json") { Description = "Machine-readable output." };
        command.Arguments.Add(arch);
        foreach (var option in new Option[] { alpha, resolution, batch, threads, steps, warmup, optimizer, learningRate, layers, writeConfig, json })
            command.Options.Add(option);
        command.SetAction(r =>
        {
            using var model = Build(r.GetValue(arch)!, r.GetValue(alpha), r.GetValue(resolution));
            var output = r.InvocationConfiguration.Output;
            if (r.GetValue(writeConfig) is { } configFile)
            {
                File.WriteAllText(configFile, KerasModelConfig.ToJson(model));
                return Cli.Success;
            }
            var settings = new Settings(r.GetValue(batch), r.GetValue(threads), r.GetValue(steps), r.GetValue(warmup),
                                        r.GetValue(optimizer)!, r.GetValue(learningRate), r.GetValue(layers));
            Measure(model, settings, r.GetValue(json), output);
            return Cli.Success;
        });
        return command;
    }

    private sealed record Settings(int Batch, int Threads, int Steps, int Warmup, string Optimizer, double LearningRate, bool Layers);

    private static Model Build(string arch, double alpha, int? resolution)
    {
        if (arch == FashionMnistCnn) return ExampleModels.FashionMnistCnn();
        if (!ModelZoo.TryResolve(arch, out _, out _, out _))
            throw new UsageException($"unknown architecture '{arch}'; expected {FashionMnistCnn} or one of: {string.Join(", ", ModelZoo.Names)}");
        return ModelZoo.Create(arch, new ApplicationOptions { Alpha = alpha, Resolution = resolution });
    }

    private static Optimizer CreateOptimizer(string name, double learningRate) => name switch
    {
        "sgd" => new Sgd(new ConstantLearningRate((float)learningRate), momentum: 0.9),
        "adam" => new Adam(new ConstantLearningRate((float)learningRate)),
        _ => throw new UsageException($"--optimizer: expected sgd or adam, got '{name}'"),
    };

    private static void Measure(Model model, Settings settings, bool json, TextWriter output)
    {
        var inputShape = model.Input.OutputShape.WithBatch(settings.Batch);
        var random = new Random(20261203);
        // Zoo models rescale [0, 255] pixels themselves; the Fashion-MNIST CNN takes [0, 1].
        float scale = model.Name == ExampleModels.FashionMnistCnn().Name ? 1f : 255f;
        var inputs = new float[inputShape.ElementCount];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = random.NextSingle() * scale;
        int classes = model.Output.OutputShape.Channels;
        var labels = new float[settings.Batch];
        for (int i = 0; i < labels.Length; i++) labels[i] = random.Next(classes);

        long rssBefore = ProcessMemory.ResetPeak();
        using var backend = new CpuBackend(settings.Threads);
        using var plan = new TrainingPlan(model, backend, settings.Batch, new SparseCategoricalCrossentropy(), CreateOptimizer(settings.Optimizer, settings.LearningRate));
        plan.TimesLayers = settings.Layers;
        for (int s = 0; s < settings.Warmup; s++) plan.Step(inputs, labels);
        var times = new List<double>();
        var layerTimes = new List<IReadOnlyList<TrainingLayerTime>>();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int s = 0; s < settings.Steps; s++)
        {
            long start = Stopwatch.GetTimestamp();
            float loss = plan.Step(inputs, labels);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (!float.IsFinite(loss)) throw new InvalidOperationException($"{model.Name}: the loss is {loss} at step {s}.");
            if (settings.Layers) layerTimes.Add(plan.LayerTimes);
        }
        long allocatedPerStep = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / settings.Steps;
        long peak = ProcessMemory.PeakResidentBytes();
        double median = Median(times);
        var layers = settings.Layers
            ? plan.LayerTimes.Select((l, i) => (l.Layer, l.ClassName, Forward: Median([.. layerTimes.Select(t => t[i].ForwardMilliseconds)]),
                                                Backward: Median([.. layerTimes.Select(t => t[i].BackwardMilliseconds)]))).ToArray()
            : [];

        if (json)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream))
            {
                writer.WriteStartObject();
                writer.WriteString("model", model.Name);
                writer.WriteString("backend", backend.Name);
                writer.WriteNumber("batch", settings.Batch);
                writer.WriteNumber("threads", settings.Threads);
                writer.WriteString("optimizer", settings.Optimizer);
                writer.WriteNumber("warmup_steps", settings.Warmup);
                writer.WriteNumber("steps", settings.Steps);
                writer.WriteNumber("median_ms", median);
                writer.WriteStartArray("step_ms");
                foreach (double t in times) writer.WriteNumberValue(t);
                writer.WriteEndArray();
                writer.WriteNumber("rss_before_bytes", rssBefore);
                writer.WriteNumber("peak_rss_bytes", peak);
                writer.WriteNumber("peak_delta_bytes", peak - rssBefore);
                writer.WriteNumber("plan_buffer_bytes", plan.BufferBytes);
                writer.WriteNumber("managed_bytes_allocated_per_step", allocatedPerStep);
                writer.WriteStartArray("layers");
                foreach (var l in layers)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", l.Layer);
                    writer.WriteString("class", l.ClassName);
                    writer.WriteNumber("forward_ms", l.Forward);
                    writer.WriteNumber("backward_ms", l.Backward);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
            return;
        }
        output.WriteLine($"Training steps of {model.Name} on {backend.Name}, batch {settings.Batch}, {settings.Optimizer}: median of {settings.Steps} steps after {settings.Warmup} warm-up steps");
        output.WriteLine($"Median step: {median:F1} ms (steps: {string.Join(", ", times.Select(t => t.ToString("F1")))})");
        output.WriteLine($"Peak RSS: {Mib(peak)} (VmHWM), {Mib(peak - rssBefore)} above the {Mib(rssBefore)} before the plan; plan buffers {Mib(plan.BufferBytes)}");
        output.WriteLine($"Managed allocation per step: {allocatedPerStep} bytes");
        if (layers.Length == 0) return;
        double total = layers.Sum(l => l.Forward + l.Backward);
        var table = new TextTable(("layer", false), ("class", false), ("forward ms", true), ("backward ms", true), ("share", true));
        foreach (var l in layers)
            table.Add(l.Layer, l.ClassName, $"{l.Forward:F2}", $"{l.Backward:F2}", $"{(total > 0 ? (l.Forward + l.Backward) / total : 0):P1}");
        table.Write(output);
        foreach (var group in layers.GroupBy(l => l.ClassName).OrderByDescending(g => g.Sum(l => l.Forward + l.Backward)))
            output.WriteLine($"{group.Key,-24} forward {group.Sum(l => l.Forward),9:F1} ms  backward {group.Sum(l => l.Backward),9:F1} ms  ({group.Sum(l => l.Forward + l.Backward) / total:P1})");
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):F1} MiB";

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

/// <summary>The process's resident memory from /proc/self/status (Linux); zero where it cannot be read.</summary>
internal static class ProcessMemory
{
    /// <summary>Resets the peak (VmHWM) to the current resident size (writes 5 to /proc/self/clear_refs) and returns that size.</summary>
    public static long ResetPeak()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return Read("VmRSS:");
    }

    /// <summary>The peak resident size since the last <see cref="ResetPeak"/> (or the process start).</summary>
    public static long PeakResidentBytes() => Read("VmHWM:");

    private static long Read(string field)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(field, StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        return 0;
    }
}
