using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NativeCnn.Backends.Cpu;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Samples;
using NativeCnn.Tensors;

const string Usage = """
    Inspect: look inside Keras architectures built by NativeCnn.

      summary MODEL [--json]
      profile MODEL [--batch N] [--threads N] [--runs N] [--layers] [--json]
      run MODEL [--input x.npy] --output y.npy [--activations L1,L2 --dump-dir DIR]
      archs

    MODEL: <arch> [--alpha A] [--resolution N] [--weights W], or --model FILE [--resolution N]
    <arch>: resnet50 resnet101 resnet152 mobilenetv2 efficientnet-b0 ... efficientnet-b7
    --model: a NativeCnn .safetensors model file (weights-converter), or a Keras .h5 / .keras file or a
             TensorFlow.js model.json that holds its config.
    --weights: seeded random weights unless W names a .safetensors file, a Keras / TensorFlow.js file, or a
               directory of .npy files (one per Keras weight, 'layer/weight' written as 'layer__weight.npy').
    profile runs the fused plan (convolution + BatchNormalization + activation + residual add, squeeze-and-
    excitation as single steps); --layers times every layer on its own instead.
    Without arguments: summary, then profile, of efficientnet-b0.
    """;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return CommandExit.Run(() =>
{
    if (args.Length == 0)
    {
        Summary(new CommandLine(["efficientnet-b0"]));
        Console.WriteLine();
        Profile(new CommandLine(["efficientnet-b0", "--runs", "5"]));
        return CommandExit.Success;
    }
    var command = new CommandLine(args.Skip(1));
    switch (args[0])
    {
        case "summary": Summary(command); break;
        case "profile": Profile(command); break;
        case "run": RunModel(command); break;
        case "archs": Console.WriteLine(string.Join(Environment.NewLine, ModelZoo.Names)); break;
        case "help" or "--help" or "-h": Console.WriteLine(Usage); break;
        default: throw new ArgumentException($"Unknown command '{args[0]}'.");
    }
    return CommandExit.Success;
}, Usage, Console.Error);

static Model Build(CommandLine command)
{
    int? resolution = command.String("resolution") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : null;
    if (command.String("model") is { } file) return ModelSources.LoadModel(file, resolution);
    string arch = command.Positional.FirstOrDefault() ?? throw new ArgumentException("Name an architecture, or a model file with --model.");
    double alpha = command.Double("alpha", 1.0);
    var model = ModelZoo.Create(arch, new ApplicationOptions { Alpha = alpha, Resolution = resolution });
    if (command.String("weights") is { } weights) ModelSources.LoadWeights(model, weights);
    return model;
}

static void Summary(CommandLine command)
{
    bool json = command.Flag("json");
    using var model = Build(command);
    command.RejectUnknown();
    var summary = model.Summary();
    Console.WriteLine(json ? summary.ToJson() : summary.ToString());
}

static void Profile(CommandLine command)
{
    bool json = command.Flag("json");
    int batch = command.Int("batch", 1), runs = command.Int("runs", 10);
    int threads = command.Int("threads", Environment.ProcessorCount);
    bool layerByLayer = command.Flag("layers");
    using var model = Build(command);
    command.RejectUnknown();
    if (runs < 1) throw new ArgumentException("--runs must be at least 1.");

    using var backend = new CpuBackend(threads);
    using var plan = model.CreatePlan(backend, batch, fuse: !layerByLayer);
    plan.Input.CopyFrom(TestImage(plan.Input.Shape, seed: 1));
    // Warm-up until the JIT has promoted the kernels to optimized code (tiering takes some calls and a background
    // compile) and buffers are touched: at least 5 runs and half a second.
    var warmUp = Stopwatch.StartNew();
    for (int i = 0; i < 5 || warmUp.ElapsedMilliseconds < 500; i++) plan.Run();

    var totals = new double[runs];
    var perStep = new double[plan.Steps.Count][];
    for (int s = 0; s < perStep.Length; s++) perStep[s] = new double[runs];
    for (int r = 0; r < runs; r++)
    {
        long start = Stopwatch.GetTimestamp();
        plan.RunProfiled();
        totals[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        for (int s = 0; s < perStep.Length; s++) perStep[s][r] = plan.Steps[s].LastMilliseconds;
    }
    double medianTotal = Median(totals);
    var rows = plan.Steps.Select((step, s) => (step, ms: Median(perStep[s]))).ToArray();
    double stepSum = rows.Sum(r => r.ms);

    if (json)
    {
        using var stream = Console.OpenStandardOutput();
        using var writer = new Utf8JsonWriter(stream);
        writer.WriteStartObject();
        writer.WriteString("model", model.Name);
        writer.WriteString("backend", backend.Name);
        writer.WriteNumber("batch", batch);
        writer.WriteNumber("runs", runs);
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
        writer.Flush();
        Console.WriteLine();
        return;
    }

    Console.WriteLine($"Profile of {model.Name} on {backend.Name}, batch {batch}, {runs} runs (median per layer):");
    Console.WriteLine($"{"layer",-32} {"type",-24} {"ms",9} {"share",7} {"GFLOP/s",9}");
    foreach (var (step, ms) in rows)
    {
        string gflops = step.MultiplyAccumulates > 0 ? $"{GigaFlops(step.MultiplyAccumulates, ms),9:F1}" : $"{"",9}";
        Console.WriteLine($"{step.Name,-32} {StepType(step),-24} {ms,9:F3} {(stepSum > 0 ? ms / stepSum : 0),7:P1} {gflops}");
    }
    long macs = plan.Steps.Sum(s => s.MultiplyAccumulates);
    string imageThreads = plan.ImageThreads > 1 ? $", {plan.ImageThreads} threads of {batch / plan.ImageThreads} images" : "";
    string passes = imageThreads + (plan.ImagesPerPass < batch / plan.ImageThreads ? $", in passes of {plan.ImagesPerPass} images" : "");
    Console.WriteLine($"Median latency: {medianTotal:F2} ms per batch of {batch}{passes} ({GigaFlops(macs, medianTotal):F1} GFLOP/s overall, {macs / 1e9:F3} GMACs)");
    Console.WriteLine($"Activation memory: {Megabytes(plan.ActivationBytes)} ({Megabytes(plan.ActivationBytesWithoutReuse)} with one buffer per step)");
}

static void RunModel(CommandLine command)
{
    string output = command.String("output") ?? throw new ArgumentException("run needs --output y.npy.");
    string? inputPath = command.String("input");
    string? activations = command.String("activations"), dumpDir = command.String("dump-dir");
    using var model = Build(command);
    command.RejectUnknown();
    if ((activations is null) != (dumpDir is null)) throw new ArgumentException("--activations and --dump-dir go together.");

    using var input = inputPath is not null
        ? NpyFile.Read(inputPath)
        : Tensor.FromArray(TestImage(model.Input.OutputShape, seed: 1), model.Input.OutputShape);
    var expected = model.Input.OutputShape.WithBatch(input.Shape.Batch);
    if (input.Shape != expected) throw new ArgumentException($"{model.Input.Name}: expected input {expected}, got {input.Shape} from {inputPath}.");

    using var backend = new CpuBackend();
    // Requested activations need every layer's output kept, so such a run goes layer by layer.
    using var plan = model.CreatePlan(backend, input.Shape.Batch, fuse: activations is null);
    plan.Input.CopyFrom(input.Span);
    plan.Run();
    Save(plan.Output, output);
    Console.WriteLine($"{model.Name}: wrote {plan.Output.Shape} to {output}");
    if (activations is null) return;
    Directory.CreateDirectory(dumpDir!);
    foreach (string name in activations.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
    {
        string path = Path.Combine(dumpDir!, name + ".npy");
        Save(plan.GetActivation(name), path);
        Console.WriteLine($"  {name}: {plan.GetActivation(name).Shape} -> {path}");
    }
}

// A fused step reads as its layers' classes, shortened ("Conv2D+BN+Activation"); a fused SE block as SqueezeExcitation.
static string StepType(PlanStep step)
{
    var names = step.Layers.Select(n => n.Layer.ClassName switch
    {
        "BatchNormalization" => "BN",
        "GlobalAveragePooling2D" => "GAP",
        var other => other,
    });
    return step.Layers[0].Layer is GlobalAveragePooling2D && step.Layers.Count > 1 ? "SqueezeExcitation" : string.Join("+", names);
}

static void Save(NativeCnn.Backends.IDeviceBuffer buffer, string path)
{
    using var host = new Tensor(buffer.Shape);
    buffer.CopyTo(host.Span);
    NpyFile.Write(path, host);
}

// A deterministic image-like input: values in [0, 255], the range the models' preprocessing expects.
static float[] TestImage(TensorShape shape, int seed)
{
    var random = new Random(seed);
    var data = new float[shape.ElementCount];
    for (int i = 0; i < data.Length; i++) data[i] = random.NextSingle() * 255f;
    return data;
}

static double Median(double[] values)
{
    var sorted = values.Order().ToArray();
    int mid = sorted.Length / 2;
    return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

static string Megabytes(long bytes) => $"{bytes / (1024.0 * 1024.0):F1} MiB";

static double GigaFlops(long multiplyAccumulates, double milliseconds) =>
    milliseconds > 0 ? 2.0 * multiplyAccumulates / (milliseconds * 1e6) : 0;
