using BenchmarkDotNet.Attributes;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Benchmarks;

/// <summary>
/// Single-threaded window pooling: ResNet50's stem max pool (3×3, stride 2, 112×112×64 to 56×56×64) and a 3×3 stride-1
/// average pool on 28×28×40 (a channel count with a remainder at every width).
/// </summary>
[MemoryDiagnoser]
public class PoolingBenchmarks
{
    private float[] _input = [];
    private float[] _output = [];
    private float[] _smallInput = [];
    private float[] _smallOutput = [];
    private Pooling2DParams _maxParams;
    private Pooling2DParams _averageParams;

    /// <summary>Seeded inputs.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _maxParams = new Pooling2DParams(1, 112, 112, 64, 56, 56, 3, 3, 2, 2, 0, 0);
        _averageParams = new Pooling2DParams(1, 28, 28, 40, 28, 28, 3, 3, 1, 1, 1, 1);
        _input = new float[112 * 112 * 64];
        for (int i = 0; i < _input.Length; i++) _input[i] = random.NextSingle();
        _output = new float[56 * 56 * 64];
        _smallInput = new float[28 * 28 * 40];
        for (int i = 0; i < _smallInput.Length; i++) _smallInput[i] = random.NextSingle();
        _smallOutput = new float[28 * 28 * 40];
    }

    /// <summary>3×3 stride-2 max pool, 112×112×64 to 56×56×64.</summary>
    [Benchmark]
    public void MaxPool3x3Stride2() => PoolingKernels.MaxPool(_input, _output, _maxParams, RowRange.All(_maxParams.RowCount));

    /// <summary>3×3 stride-1 'same' average pool on 28×28×40.</summary>
    [Benchmark]
    public void AveragePool3x3() => PoolingKernels.AveragePool(_smallInput, _smallOutput, _averageParams, RowRange.All(_averageParams.RowCount));

    /// <summary>Global max pool of the 112×112×64 map.</summary>
    [Benchmark]
    public void GlobalMaxPool() => PoolingKernels.GlobalMaxPool(_input, _output.AsSpan(0, 64), 112 * 112);
}
