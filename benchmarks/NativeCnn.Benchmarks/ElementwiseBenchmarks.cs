using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Benchmarks;

/// <summary>
/// Fused swish over one million floats against a TensorPrimitives composition of the same formula, the element-wise
/// kernels on EfficientNet-B0 shapes (block2b: 56×56×144), and a global average pool of its head (7×7×1280).
/// </summary>
[MemoryDiagnoser]
public class ElementwiseBenchmarks
{
    private const int Length = 1 << 20;
    private const int PoolPixels = 7 * 7;
    private const int PoolChannels = 1280;
    private const int MapPixels = 56 * 56;
    private const int MapChannels = 144;
    // A channel count that is not a multiple of any vector width, applied pixel by pixel: the tail's cost.
    private const int TailChannels = 36;
    private const int Classes = 1000;

    private float[] _input = [];
    private float[] _other = [];
    private float[] _output = [];
    private float[] _poolInput = [];
    private float[] _poolOutput = [];
    private float[] _scale = [];
    private float[] _shift = [];
    private float[] _logits = [];
    private float[] _probabilities = [];

    /// <summary>Fills the inputs with fixed pseudo-random values.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        float[] Uniform(int length, float low, float high)
        {
            var data = new float[length];
            for (int i = 0; i < length; i++) data[i] = low + random.NextSingle() * (high - low);
            return data;
        }
        _input = Uniform(Length, -8f, 8f);
        _other = Uniform(Length, -8f, 8f);
        _output = new float[Length];
        _poolInput = Uniform(PoolPixels * PoolChannels, 0f, 1f);
        _poolOutput = new float[PoolChannels];
        _scale = Uniform(MapChannels, 0.5f, 1.5f);
        _shift = Uniform(MapChannels, -1f, 1f);
        _logits = Uniform(Classes, -10f, 10f);
        _probabilities = new float[Classes];
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

    /// <summary>Sigmoid over one million floats.</summary>
    [Benchmark]
    public void SigmoidKernel() => ElementwiseKernels.Apply(_input, _output, new SigmoidActivation());

    /// <summary>Swish on 4096 pixels of 36 channels, one call per pixel: the remainder path and the per-call cost.</summary>
    [Benchmark]
    public void SwishPerPixel()
    {
        for (int i = 0; i + TailChannels <= 4096 * TailChannels; i += TailChannels)
            ElementwiseKernels.Apply(_input.AsSpan(i, TailChannels), _output.AsSpan(i, TailChannels), new SwishActivation());
    }

    /// <summary>One million sums, in place (a residual connection).</summary>
    [Benchmark]
    public void AddInPlace() => ElementwiseKernels.Add(_output, _other, _output);

    /// <summary>BatchNormalization + swish on a 56×56×144 map.</summary>
    [Benchmark]
    public void ChannelAffineSwish()
        => ElementwiseKernels.ChannelAffine(_input.AsSpan(0, MapPixels * MapChannels), _scale, _shift,
                                            _output.AsSpan(0, MapPixels * MapChannels), new SwishActivation());

    /// <summary>Squeeze-and-excitation's excite step on a 56×56×144 map, one call per output row of 56 pixels.</summary>
    [Benchmark]
    public void MultiplyByChannelPerRow()
    {
        const int RowLength = 56 * MapChannels;
        for (int i = 0; i < MapPixels * MapChannels; i += RowLength)
            ElementwiseKernels.MultiplyByChannel(_input.AsSpan(i, RowLength), _scale, _output.AsSpan(i, RowLength));
    }

    /// <summary>Softmax over 1000 classes.</summary>
    [Benchmark]
    public void Softmax() => ElementwiseKernels.Softmax(_logits, _probabilities);

    /// <summary>Global average pool of a 7×7×1280 image.</summary>
    [Benchmark]
    public void GlobalAveragePool() => PoolingKernels.GlobalAveragePool(_poolInput, _poolOutput, PoolPixels);
}
