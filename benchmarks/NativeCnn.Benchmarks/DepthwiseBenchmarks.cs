using BenchmarkDotNet.Attributes;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Benchmarks;

/// <summary>
/// Single-threaded depthwise convolutions on EfficientNet-B0's depthwise layers (224×224 input, BatchNormalization
/// folded, swish fused), plus the small maps of EfficientNet-B3 at 300×300 and MobileNetV2 at 224×224, whose rows are
/// mostly border and remainder tiles. Stride-2 layers read ZeroPadding2D's output with a 'valid' window, as Keras builds them.
/// GFLOP/s = 2 · outH · outW · C · k² / time.
/// </summary>
[MemoryDiagnoser]
public class DepthwiseBenchmarks
{
    private float[] _input = [];
    private float[] _kernel = [];
    private float[] _bias = [];
    private float[] _output = [];
    private DepthwiseConv2DParams _params;

    /// <summary>Layer: name, output size, channels, kernel size, stride.</summary>
    [Params("block1a 112x32 k3s1", "block2a 56x96 k3s2", "block2b 56x144 k3s1", "block3a 28x144 k5s2", "block3b 28x240 k5s1",
            "block4a 14x240 k3s2", "block4b 14x480 k3s1", "block5b 14x672 k5s1", "block6a 7x672 k5s2", "block6b 7x1152 k5s1",
            "b3-block5b 19x816 k5s1", "b3-block6b 10x1392 k5s1", "b3-block7b 10x2304 k3s1", "mv2-block_14 7x960 k3s1")]
    public string Layer { get; set; } = "block3b 28x240 k5s1";

    /// <summary>Seeded input and weights for <see cref="Layer"/>.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var parts = Layer.Split(' ');
        var sizes = parts[1].Split('x');
        int outSize = int.Parse(sizes[0]), channels = int.Parse(sizes[1]);
        int k = parts[2][1] - '0', stride = parts[2][3] - '0';
        // Stride 1 pads 'same' inside the op; stride 2 reads a padded input of (out - 1) · 2 + k.
        int pad = stride == 1 ? k / 2 : 0;
        int inSize = stride == 1 ? outSize : (outSize - 1) * stride + k;
        _params = new DepthwiseConv2DParams(1, inSize, inSize, channels, outSize, outSize, 1, k, k, stride, stride, 1, 1, pad, pad);
        var random = new Random(42);
        float[] Uniform(int length)
        {
            var data = new float[length];
            for (int i = 0; i < length; i++) data[i] = random.NextSingle() * 2f - 1f;
            return data;
        }
        _input = Uniform(inSize * inSize * channels);
        _kernel = Uniform(k * k * channels);
        _bias = Uniform(channels);
        _output = new float[outSize * outSize * channels];
    }

    /// <summary>Depthwise + bias + swish, all rows on one thread.</summary>
    [Benchmark]
    public void DepthwiseSwish()
        => DepthwiseConv2DKernels.Nhwc(_input, _kernel, _bias, _output, _params, new SwishActivation(), RowRange.All(_params.RowCount));

    /// <summary>The same without the activation: the convolution alone.</summary>
    [Benchmark]
    public void DepthwiseLinear()
        => DepthwiseConv2DKernels.Nhwc(_input, _kernel, _bias, _output, _params, new IdentityActivation(), RowRange.All(_params.RowCount));
}
