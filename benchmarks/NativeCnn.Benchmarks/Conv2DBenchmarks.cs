using BenchmarkDotNet.Attributes;
using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tensors;

namespace NativeCnn.Benchmarks;

/// <summary>
/// Single-threaded convolutions on ResNet/MobileNet-sized layers, the Conv2D ones prepared on the path the backend picks
/// (windows for the 56x56 3x3, the packed GEMM for the 1x1). GFLOP/s = 2 · MACs / time; the MAC counts are
/// 3x3: 56·56·64·64·9 = 115.6 M, 1x1: 56·56·64·256 = 51.4 M, depthwise: 112·112·32·9 = 3.6 M.
/// </summary>
[MemoryDiagnoser]
public class Conv2DBenchmarks
{
    private CpuBackend? _backend;
    private Tensor[] _tensors = [];
    private IPreparedOp? _conv3x3, _conv1x1;
    private float[] _depthwiseInput = [];
    private float[] _depthwiseKernel = [];
    private float[] _depthwiseBias = [];
    private float[] _depthwiseOutput = [];

    private static readonly DepthwiseConv2DParams DepthwiseShape = new(1, 112, 112, 32, 112, 112, 1, 3, 3, 1, 1, 1, 1, 1, 1);

    /// <summary>Seeded inputs and weights; the convolutions are prepared here, as a plan does.</summary>
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
        var input = Tensor.FromArray(Uniform(56 * 56 * 64), TensorShape.Nhwc(1, 56, 56, 64));
        var kernel3x3 = Tensor.FromArray(Uniform(3 * 3 * 64 * 64), new TensorShape(3, 3, 64, 64));
        var kernel1x1 = Tensor.FromArray(Uniform(64 * 256), new TensorShape(1, 1, 64, 256));
        var bias64 = Tensor.FromArray(Uniform(64), new TensorShape(64));
        var bias256 = Tensor.FromArray(Uniform(256), new TensorShape(256));
        var output3x3 = new Tensor(TensorShape.Nhwc(1, 56, 56, 64));
        var output1x1 = new Tensor(TensorShape.Nhwc(1, 56, 56, 256));
        _tensors = [input, kernel3x3, kernel1x1, bias64, bias256, output3x3, output1x1];
        _backend = new CpuBackend(threadCount: 1);
        _conv3x3 = _backend.Prepare(new Conv2DOp(3, 3, 1, 1, 1, 1, new Padding2D(1, 1, 1, 1), 64, UseBias: true, ActivationFunction.Relu),
                                    new OpBinding("conv3x3", [new HostBuffer(input)], new HostBuffer(output3x3), [kernel3x3, bias64]));
        _conv1x1 = _backend.Prepare(new Conv2DOp(1, 1, 1, 1, 1, 1, Padding2D.None, 256, UseBias: true, ActivationFunction.Linear),
                                    new OpBinding("conv1x1", [new HostBuffer(input)], new HostBuffer(output1x1), [kernel1x1, bias256]));
        _depthwiseInput = Uniform(112 * 112 * 32);
        _depthwiseKernel = Uniform(3 * 3 * 32);
        _depthwiseBias = Uniform(32);
        _depthwiseOutput = new float[112 * 112 * 32];
    }

    /// <summary>ResNet50 conv2 3x3, 'same', ReLU.</summary>
    [Benchmark]
    public void Conv3x3Relu() => _conv3x3!.Run();

    /// <summary>ResNet50 conv2 1x1 expansion 64 → 256.</summary>
    [Benchmark]
    public void Conv1x1() => _conv1x1!.Run();

    /// <summary>Frees the ops, tensors and backend.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _conv3x3?.Dispose();
        _conv1x1?.Dispose();
        foreach (var tensor in _tensors) tensor.Dispose();
        _backend?.Dispose();
    }

    /// <summary>MobileNetV2 first depthwise 3x3, ReLU6.</summary>
    [Benchmark]
    public void Depthwise3x3Relu6()
        => DepthwiseConv2DKernels.Nhwc(_depthwiseInput, _depthwiseKernel, _depthwiseBias, _depthwiseOutput, DepthwiseShape,
                                       new BoundedReluActivation(6f), RowRange.All(DepthwiseShape.RowCount));
}
