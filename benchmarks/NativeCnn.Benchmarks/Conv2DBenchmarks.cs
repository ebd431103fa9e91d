using BenchmarkDotNet.Attributes;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Benchmarks;

/// <summary>
/// Single-threaded convolution kernels on ResNet/MobileNet-sized layers. GFLOP/s = 2 · MACs / time; the MAC counts are
/// 3x3: 56·56·64·64·9 = 115.6 M, 1x1: 56·56·64·256 = 51.4 M, depthwise: 112·112·32·9 = 3.6 M.
/// </summary>
[MemoryDiagnoser]
public class Conv2DBenchmarks
{
    private float[] _input = [];
    private float[] _kernel3x3 = [];
    private float[] _kernel1x1 = [];
    private float[] _bias = [];
    private float[] _output3x3 = [];
    private float[] _output1x1 = [];
    private float[] _depthwiseInput = [];
    private float[] _depthwiseKernel = [];
    private float[] _depthwiseBias = [];
    private float[] _depthwiseOutput = [];

    private static readonly Conv2DParams Shape3x3 = new(1, 56, 56, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1);
    private static readonly Conv2DParams Shape1x1 = new(1, 56, 56, 64, 56, 56, 256, 1, 1, 1, 1, 1, 1, 0, 0);
    private static readonly DepthwiseConv2DParams DepthwiseShape = new(1, 112, 112, 32, 112, 112, 1, 3, 3, 1, 1, 1, 1, 1, 1);

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
        _input = Uniform(56 * 56 * 64);
        _kernel3x3 = Uniform(3 * 3 * 64 * 64);
        _kernel1x1 = Uniform(64 * 256);
        _bias = Uniform(256);
        _output3x3 = new float[56 * 56 * 64];
        _output1x1 = new float[56 * 56 * 256];
        _depthwiseInput = Uniform(112 * 112 * 32);
        _depthwiseKernel = Uniform(3 * 3 * 32);
        _depthwiseBias = Uniform(32);
        _depthwiseOutput = new float[112 * 112 * 32];
    }

    /// <summary>ResNet50 conv2 3x3, 'same', ReLU.</summary>
    [Benchmark]
    public void Conv3x3Relu()
        => Conv2DKernels.Nhwc(_input, _kernel3x3, _bias.AsSpan(0, 64), _output3x3, Shape3x3, new ReluActivation(), RowRange.All(Shape3x3.RowCount));

    /// <summary>ResNet50 conv2 1x1 expansion 64 → 256.</summary>
    [Benchmark]
    public void Conv1x1()
        => Conv2DKernels.Nhwc(_input, _kernel1x1, _bias, _output1x1, Shape1x1, new IdentityActivation(), RowRange.All(Shape1x1.RowCount));

    /// <summary>MobileNetV2 first depthwise 3x3, ReLU6.</summary>
    [Benchmark]
    public void Depthwise3x3Relu6()
        => DepthwiseConv2DKernels.Nhwc(_depthwiseInput, _depthwiseKernel, _depthwiseBias, _depthwiseOutput, DepthwiseShape,
                                       new BoundedReluActivation(6f), RowRange.All(DepthwiseShape.RowCount));
}
