using BenchmarkDotNet.Attributes;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Benchmarks;

/// <summary>
/// Single-threaded fully connected layers: EfficientNet-B0's classifier (1280 to 1000) at batch 1 and 8, and a fused
/// squeeze-and-excitation block (EfficientNet-B0 block4b: 14×14×480, reduced to 20).
/// GFLOP/s of the classifier = 2 · batch · 1280 · 1000 / time.
/// </summary>
[MemoryDiagnoser]
public class DenseBenchmarks
{
    private const int Features = 1280, Units = 1000, MaxBatch = 8;
    private const int SePixels = 14 * 14, SeChannels = 480, SeReduced = 20;

    private float[] _input = [];
    private float[] _kernel = [];
    private float[] _bias = [];
    private float[] _output = [];
    private float[] _seInput = [];
    private float[] _seReduceKernel = [];
    private float[] _seReduceBias = [];
    private float[] _seExpandKernel = [];
    private float[] _seExpandBias = [];
    private float[] _seOutput = [];
    private float[] _seScratch = [];

    /// <summary>Seeded inputs and weights.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        float[] Uniform(int length)
        {
            var data = new float[length];
            for (int i = 0; i < length; i++) data[i] = random.NextSingle() * 2f - 1f;
            return data;
        }
        _input = Uniform(MaxBatch * Features);
        _kernel = Uniform(Features * Units);
        _bias = Uniform(Units);
        _output = new float[MaxBatch * Units];
        _seInput = Uniform(SePixels * SeChannels);
        _seReduceKernel = Uniform(SeChannels * SeReduced);
        _seReduceBias = Uniform(SeReduced);
        _seExpandKernel = Uniform(SeReduced * SeChannels);
        _seExpandBias = Uniform(SeChannels);
        _seOutput = new float[SePixels * SeChannels];
        _seScratch = new float[new SqueezeExcitationParams(SePixels, SeChannels, SeReduced).ScratchLength];
    }

    /// <summary>The classifier at batch 1: a matrix-vector product.</summary>
    [Benchmark]
    public void ClassifierBatch1() => Classifier(1);

    /// <summary>The classifier at batch 8: each kernel row serves four batch rows.</summary>
    [Benchmark]
    public void ClassifierBatch8() => Classifier(MaxBatch);

    /// <summary>Squeeze-and-excitation on one 14×14×480 image.</summary>
    [Benchmark]
    public void SqueezeExcitation()
        => SqueezeExcitationKernels.Forward(_seInput, _seReduceKernel, _seReduceBias, _seExpandKernel, _seExpandBias, _seOutput,
                                            _seScratch, new SqueezeExcitationParams(SePixels, SeChannels, SeReduced), new SwishActivation());

    private void Classifier(int batch)
    {
        var p = new DenseParams(batch, Features, Units);
        DenseKernels.ForwardBlocks(_input, _kernel, _bias, _output, p, new IdentityActivation(), RowRange.All(p.BlockCount));
    }
}
