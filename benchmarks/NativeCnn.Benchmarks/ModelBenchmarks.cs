using BenchmarkDotNet.Attributes;
using NativeCnn.Backends.Cpu;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Benchmarks;

/// <summary>
/// Whole-model latency of the fused CPU plan at batch 1 and 8, on 1 and 2 threads (seeded random weights: the kernels'
/// speed does not depend on the values). Peers are measured side by side by <c>benchmarks/compare/run</c>.
/// </summary>
[MemoryDiagnoser]
public class ModelBenchmarks
{
    private Model? _model;
    private CpuBackend? _backend;
    private ExecutionPlan? _plan;

    /// <summary>The architecture (Keras default resolution).</summary>
    [Params("efficientnet-b0", "mobilenetv2", "resnet50")]
    public string Architecture { get; set; } = "efficientnet-b0";

    /// <summary>Worker threads.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Images per run.</summary>
    [Params(1, 8)]
    public int Batch { get; set; }

    /// <summary>Builds the model and its plan once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _model = ModelZoo.Create(Architecture, new ApplicationOptions());
        _backend = new CpuBackend(Threads);
        _plan = _model.CreatePlan(_backend, Batch);
        var input = new float[_plan.Input.Shape.ElementCount];
        var random = new Random(1);
        for (int i = 0; i < input.Length; i++) input[i] = random.NextSingle() * 255f;
        _plan.Input.CopyFrom(input);
    }

    /// <summary>One forward pass; allocates nothing.</summary>
    [Benchmark]
    public void Forward() => _plan!.Run();

    /// <summary>Releases the plan, backend and model.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _plan?.Dispose();
        _backend?.Dispose();
        _model?.Dispose();
    }
}
