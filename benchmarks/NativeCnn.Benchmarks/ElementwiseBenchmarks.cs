using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Benchmarks;

/// <summary>
/// Fused swish over one million floats against a TensorPrimitives composition of the same formula, and a global
/// average pool of an EfficientNet-B0 head (7×7×1280).
/// </summary>
[MemoryDiagnoser]
public class ElementwiseBenchmarks
{
    private const int Length = 1 << 20;
    private const int PoolPixels = 7 * 7;
    private const int PoolChannels = 1280;

    private float[] _input = [];
    private float[] _output = [];
    private float[] _poolInput = [];
    private float[] _poolOutput = [];

    /// <summary>Fills the inputs with fixed pseudo-random values.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _input = new float[Length];
        for (int i = 0; i < Length; i++) _input[i] = random.NextSingle() * 16f - 8f;
        _output = new float[Length];
        _poolInput = new float[PoolPixels * PoolChannels];
        for (int i = 0; i < _poolInput.Length; i++) _poolInput[i] = random.NextSingle();
        _poolOutput = new float[PoolChannels];
    }

    /// <summary>The fused kernel: one pass, the activation inlined.</summary>
    [Benchmark]
    public void SwishKernel() => ElementwiseKernels.Apply(_input, _output, new SwishActivation());

    /// <summary>Swish as four TensorPrimitives passes: −x, exp, 1 + e, x / (1 + e).</summary>
    [Benchmark(Baseline = true)]
    public void SwishTensorPrimitives()
    {
        TensorPrimitives.Negate(_input, _output);
        TensorPrimitives.Exp(_output, _output);
        TensorPrimitives.Add(_output, 1f, _output);
        TensorPrimitives.Divide(_input, _output, _output);
    }

    /// <summary>Global average pool of a 7×7×1280 image.</summary>
    [Benchmark]
    public void GlobalAveragePool() => PoolingKernels.GlobalAveragePool(_poolInput, _poolOutput, PoolPixels);
}
