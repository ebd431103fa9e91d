using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Benchmarks;

/// <summary>
/// Single-threaded pointwise (1x1) convolutions of EfficientNet-B0, MobileNetV2 and ResNet50 on the packed GEMM
/// (<see cref="PointwiseConvKernels"/>), with bias and ReLU.
/// The GFLOP/s column is <c>2 · pixels · inputChannels · outputChannels / mean time</c>.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GigaFlopsConfig))]
public class PointwiseConvBenchmarks
{
    private float[] _input = [];
    private float[] _kernel = [];
    private float[] _bias = [];
    private float[] _output = [];
    private PointwiseConvParams _pointwise;
    private PackedPointwiseWeights? _packed;

    /// <summary>HxWxC→F: EfficientNet-B0 block2b project, block1a project, block4 project, block6 project and head; ResNet50 conv2 expansion.</summary>
    [Params("56x56x144-24", "112x112x32-16", "14x14x480-80", "7x7x1152-192", "7x7x320-1280", "56x56x64-256")]
    public string Shape { get; set; } = "";

    /// <summary>Seeded inputs and weights; the packed kernel is built here, as a plan does at prepare.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (height, width, channels, filters) = Parse(Shape);
        var random = new Random(42);
        float[] Uniform(int length)
        {
            var data = new float[length];
            for (int i = 0; i < length; i++) data[i] = random.NextSingle() * 2f - 1f;
            return data;
        }
        _input = Uniform(height * width * channels);
        _kernel = Uniform(channels * filters);
        _bias = Uniform(filters);
        _output = new float[height * width * filters];
        _pointwise = new PointwiseConvParams(height * width, channels, filters);
        _packed = new PackedPointwiseWeights(_kernel, _bias, channels, filters);
    }

    /// <summary>Frees the packed kernel.</summary>
    [GlobalCleanup]
    public void Cleanup() => _packed?.Dispose();

    /// <summary>The packed GEMM.</summary>
    [Benchmark]
    public void Packed()
        => PointwiseConvKernels.Nhwc(_input, _packed!, [], _output, _pointwise, new ReluActivation(), RowRange.All(_pointwise.Pixels),
                                     RowRange.All(_packed!.PanelCount));

    internal static (int Height, int Width, int Channels, int Filters) Parse(string shape)
    {
        var parts = shape.Split('-');
        var dims = parts[0].Split('x');
        return (int.Parse(dims[0], CultureInfo.InvariantCulture), int.Parse(dims[1], CultureInfo.InvariantCulture),
                int.Parse(dims[2], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private sealed class GigaFlopsConfig : ManualConfig
    {
        public GigaFlopsConfig() => AddColumn(new GigaFlopsColumn(Flops, "2 · pixels · input channels · output channels / median time"));

        private static double? Flops(BenchmarkCase benchmarkCase)
        {
            var (height, width, channels, filters) = Parse((string)benchmarkCase.Parameters[nameof(Shape)]);
            return 2.0 * height * width * channels * filters;
        }
    }
}
