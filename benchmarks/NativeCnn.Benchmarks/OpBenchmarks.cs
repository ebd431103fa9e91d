using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Tensors;

namespace NativeCnn.Benchmarks;

/// <summary>
/// Every CPU op at real layer shapes of ResNet50, MobileNetV2 and EfficientNet-B0 (which B3 and B7 share, wider),
/// prepared and run through the public backend contract only (<see cref="IBackend"/>, <see cref="IDeviceBuffer"/>,
/// <see cref="OpDescriptor"/>, <see cref="OpBinding"/>, <see cref="Tensor"/> weights), on one thread. Because it never
/// names a kernel, the same source compiles against any commit that has that contract, which is how
/// <c>benchmarks/kernels-before-after</c> measures a baseline and the working tree side by side.
/// </summary>
/// <remarks>
/// The GFLOP/s column is <c>2 · multiply-accumulates / median time</c>. Ops without multiply-accumulates count one
/// operation per element they combine (a pooling window's cells, an element-wise op's inputs), so their column reads
/// as billions of elements per second.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class OpBenchmarks
{
    private CpuBackend? _backend;
    private readonly List<IDisposable> _owned = [];
    private IPreparedOp? _prepared;

    /// <summary>The case to run, a key of <see cref="OpCases.All"/>.</summary>
    [ParamsSource(nameof(OpNames))]
    public string Op { get; set; } = "";

    /// <summary>
    /// The case names, in table order; <c>NATIVECNN_OPS=conv3x3_56x56x64,dense_2048to1000</c> selects some (BenchmarkDotNet's
    /// <c>--filter</c> matches methods, not parameter values).
    /// </summary>
    public static IEnumerable<string> OpNames =>
        Environment.GetEnvironmentVariable("NATIVECNN_OPS") is { Length: > 0 } selected
            ? selected.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(name => OpCases.Find(name).Name)
            : OpCases.All.Select(c => c.Name);

    /// <summary>Allocates the buffers and weights (seeded), prepares the op once and runs it once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var c = OpCases.Find(Op);
        var random = new Random(20230828);
        _backend = new CpuBackend(threadCount: 1);
        var inputs = new List<IDeviceBuffer>();
        foreach (var shape in c.Inputs)
        {
            var buffer = _backend.Allocate(shape);
            buffer.CopyFrom(RandomValues(random, shape));
            _owned.Add(buffer);
            inputs.Add(buffer);
        }
        var output = _backend.Allocate(c.Output);
        _owned.Add(output);
        var weights = new List<Tensor>();
        foreach (var shape in c.Weights)
        {
            var weight = new Tensor(shape);
            weight.CopyFrom(RandomValues(random, shape, scale: 0.1f));
            _owned.Add(weight);
            weights.Add(weight);
        }
        if (!_backend.Supports(c.Descriptor, out var reason)) throw new InvalidOperationException($"{c.Name}: {reason}");
        _prepared = _backend.Prepare(c.Descriptor, new OpBinding(c.Name, inputs, output, weights));
        _prepared.Run();
    }

    /// <summary>One run of the prepared op.</summary>
    [Benchmark]
    public void Run() => _prepared!.Run();

    /// <summary>Releases the op, the buffers and the worker thread.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _prepared?.Dispose();
        foreach (var owned in _owned) owned.Dispose();
        _owned.Clear();
        _backend?.Dispose();
    }

    private static float[] RandomValues(Random random, TensorShape shape, float scale = 1f)
    {
        var values = new float[shape.ElementCount];
        for (int i = 0; i < values.Length; i++) values[i] = (random.NextSingle() * 2f - 1f) * scale;
        return values;
    }

    /// <summary>The default columns plus GFLOP/s.</summary>
    public sealed class Config : ManualConfig
    {
        /// <summary>Adds <see cref="GigaFlopsColumn"/>, and shows op names whole.</summary>
        public Config()
        {
            AddColumn(new GigaFlopsColumn());
            SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(40);
        }
    }
}
