// ONNX Runtime's .NET package (Microsoft.ML.OnnxRuntime, CPU execution provider) as a peer of compare.py: the median
// latency of one ONNX model, printed as one JSON line in the format ort-latency.mjs (the Node peer) prints.
// The session is set up as a tuned C# deployment would be: all graph optimizations, a fixed intra-op pool, no inter-op
// parallelism, sequential execution, and input and output bound once (OrtIoBinding) to pinned, preallocated arrays, so
// a timed run allocates nothing and copies nothing. The input is the same seeded NCHW tensor ort-session.mjs feeds.
//
// usage: dotnet OrtPeer.dll --model FILE.onnx --resolution N [--batch B] [--threads T] [--runs R] [--warmup W]
//                           [--dump FILE.json]   (--dump also writes the output values, to check them against a peer)

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

var options = ParseArguments(args);
if (options is null)
{
    Console.Error.WriteLine("usage: dotnet OrtPeer.dll --model FILE.onnx --resolution N [--batch B] [--threads T] [--runs R] [--warmup W] [--dump FILE.json]");
    return 2;
}
int batch = Int(options, "batch", 1), resolution = Int(options, "resolution", 0), threads = Int(options, "threads", 1);
int runs = Int(options, "runs", 20), warmup = Int(options, "warmup", 3);

using var sessionOptions = new SessionOptions
{
    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
    IntraOpNumThreads = threads,
    InterOpNumThreads = 1,
};
using var session = new InferenceSession(options["model"], sessionOptions);
string inputName = session.InputNames[0], outputName = session.OutputNames[0];

long[] inputShape = [batch, 3, resolution, resolution];
// The output's symbolic batch axis (-1) becomes the batch; the rest comes from the model.
long[] outputShape = session.OutputMetadata[outputName].Dimensions.Select(d => d < 0 ? (long)batch : d).ToArray();
// Pinned on the pinned object heap: ONNX Runtime reads and writes them in place, and the GC never moves them.
float[] input = GC.AllocateArray<float>(checked((int)(inputShape.Aggregate(1L, (a, b) => a * b))), pinned: true);
float[] output = GC.AllocateArray<float>(checked((int)(outputShape.Aggregate(1L, (a, b) => a * b))), pinned: true);
for (int i = 0; i < input.Length; i++) input[i] = (float)((i * 2654435761L) % 1000 / 1000.0 - 0.5);

using var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(), inputShape);
using var outputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, output.AsMemory(), outputShape);
using var binding = session.CreateIoBinding();
binding.BindInput(inputName, inputValue);
binding.BindOutput(outputName, outputValue);
using var runOptions = new RunOptions();

for (int i = 0; i < warmup; i++) session.RunWithBinding(runOptions, binding);
var times = new double[runs];
long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
for (int i = 0; i < runs; i++)
{
    long start = Stopwatch.GetTimestamp();
    session.RunWithBinding(runOptions, binding);
    times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
}
long managedBytesPerRun = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / runs;

if (options.TryGetValue("dump", out var dump))
    File.WriteAllText(dump, JsonSerializer.Serialize(new { shape = outputShape, values = output }));
Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
{
    ["peer"] = "onnxruntime-dotnet",
    ["version"] = OrtEnv.Instance().GetVersionString(),
    ["median_ms"] = Median(times),
    ["min_ms"] = times.Min(),
    ["runs"] = runs,
    ["managed_bytes_per_run"] = managedBytesPerRun,
}));
return 0;

static Dictionary<string, string>? ParseArguments(string[] args)
{
    var options = new Dictionary<string, string>();
    for (int i = 0; i < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length) return null;
        options[args[i][2..]] = args[i + 1];
    }
    string[] known = ["model", "resolution", "batch", "threads", "runs", "warmup", "dump"];
    if (options.Keys.Any(k => !known.Contains(k)) || !options.ContainsKey("model") || !options.ContainsKey("resolution")) return null;
    return options;
}

static int Int(Dictionary<string, string> options, string name, int fallback) =>
    options.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

static double Median(double[] values)
{
    var sorted = values.Order().ToArray();
    int middle = sorted.Length / 2;
    return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
