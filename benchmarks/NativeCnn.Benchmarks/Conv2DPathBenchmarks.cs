using BenchmarkDotNet.Attributes;
using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Ops;
using NativeCnn.Tensors;

namespace NativeCnn.Benchmarks;

/// <summary>
/// ResNet50's 3x3 convolutions (stride 1, 'same', bias, ReLU) on one thread, each prepared op forced onto one path: the
/// implicit GEMM (patches gathered a slot at a time), the packed GEMM on windows read in place and Winograd F(2x2, 3x3).
/// The routing in <see cref="Conv2DPathSelector.Choose"/> follows these numbers.
/// </summary>
[MemoryDiagnoser]
public class Conv2DPathBenchmarks
{
    private WorkerPool? _pool;
    private Tensor[] _tensors = [];
    private IPreparedOp? _implicit, _windows, _winograd;

    /// <summary>HxWxC-F of ResNet50's conv2..conv5 3x3s.</summary>
    [Params("56x56x64-64", "28x28x128-128", "14x14x256-256", "7x7x512-512")]
    public string Shape { get; set; } = "";

    /// <summary>Seeded tensors and the prepared ops.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (height, width, channels, filters) = PointwiseConvBenchmarks.Parse(Shape);
        var random = new Random(42);
        Tensor Uniform(TensorShape shape)
        {
            var data = new float[shape.ElementCount];
            for (int i = 0; i < data.Length; i++) data[i] = random.NextSingle() * 2f - 1f;
            return Tensor.FromArray(data, shape);
        }
        var input = Uniform(TensorShape.Nhwc(1, height, width, channels));
        var kernel = Uniform(new TensorShape(3, 3, channels, filters));
        var bias = Uniform(new TensorShape(filters));
        var output = new Tensor(TensorShape.Nhwc(1, height, width, filters));
        _tensors = [input, kernel, bias, output];
        _pool = new WorkerPool(threadCount: 1);
        var op = new Conv2DOp(3, 3, 1, 1, 1, 1, new Padding2D(1, 1, 1, 1), filters, UseBias: true, ActivationFunction.Relu, AddsResidual: false);
        CpuConv2D Prepare(Conv2DPath path) => CpuConv2D.Create(op, new OpBinding(Shape, [new HostBuffer(input)], new HostBuffer(output), [kernel, bias]), _pool, path);
        _implicit = Prepare(Conv2DPath.ImplicitGemm);
        _windows = Prepare(Conv2DPath.Windows);
        _winograd = Prepare(Conv2DPath.Winograd);
    }

    /// <summary>Frees the ops, tensors and pool.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _implicit?.Dispose();
        _windows?.Dispose();
        _winograd?.Dispose();
        foreach (var tensor in _tensors) tensor.Dispose();
        _pool?.Dispose();
    }

    /// <summary>Patches gathered a slot at a time, each multiplied while in L2.</summary>
    [Benchmark]
    public void ImplicitGemm() => _implicit!.Run();

    /// <summary>The packed GEMM's micro-kernels on windows read from a padded copy of the input.</summary>
    [Benchmark(Baseline = true)]
    public void Windows() => _windows!.Run();

    /// <summary>Winograd F(2x2, 3x3): input transform, 16 packed GEMMs, output transform.</summary>
    [Benchmark]
    public void Winograd() => _winograd!.Run();
}
