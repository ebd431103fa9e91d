using NativeCnn.Tensors;
using NativeCnn.Backends;
using NativeCnn.Backends.Conformance;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>
/// The fused forms a plan emits that the conformance catalog lacks (SE excitation only, a conv scaling its input channels,
/// a max pooling whose folded ZeroPadding2D cells count as zeros), on ilgpu-cpu against the CPU backend.
/// </summary>
[Collection(IlgpuCollection.Name)]
public sealed class IlgpuFusedFormTests(IlgpuFixture fixture)
{
    public static TheoryData<string> Names() => [.. Cases().Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesCpu(string name)
    {
        var test = Cases().Single(c => c.Name == name);
        Assert.True(fixture.Ilgpu.Supports(test.Op, out var reason), reason);
        var expected = test.Run(fixture.Cpu, 7);
        var actual = test.Run(fixture.Ilgpu, 7);
        Precision.AssertClose(expected, actual, OpConformance.Tolerance, scale: 1.0, what: name);
    }

    private static IEnumerable<OpConformanceCase> Cases()
    {
        var x = TensorShape.Nhwc(2, 5, 7, 17);
        yield return new("squeeze-excitation excitation only 2x5x7x17 r4 swish", new SqueezeExcitationOp(4, ActivationFunction.Swish, ExcitationOnly: true), [x],
            [new TensorShape(1, 1, 17, 4), new TensorShape(4), new TensorShape(1, 1, 4, 17), new TensorShape(17)], TensorShape.Nhwc(2, 1, 1, 17));
        var output = TensorShape.Nhwc(2, 5, 7, 9);
        yield return new("conv2d 1x1 scales input channels +residual", new Conv2DOp(1, 1, 1, 1, 1, 1, Padding2D.None, 9, true, ActivationFunction.Linear,
                AddsResidual: true, ScalesInputChannels: true),
            [x, output, TensorShape.Nhwc(2, 1, 1, 17)], [new TensorShape(1, 1, 17, 9), new TensorShape(9)], output);
        yield return new("conv2d 1x1 scales input channels relu6", new Conv2DOp(1, 1, 1, 1, 1, 1, Padding2D.None, 9, false, ActivationFunction.Relu6,
                ScalesInputChannels: true),
            [x, TensorShape.Nhwc(2, 1, 1, 17)], [new TensorShape(1, 1, 17, 9)], output);
        // ResNet's pool1_pad + pool1: pad 1 on each side, 3x3 stride 2 'valid' max pool, padded cells read as zeros.
        yield return new("max pool padded cells are zeros 2x9x8x5 k3 s2", new Pooling2DOp(PoolingMode.Max, 3, 3, 2, 2, new Padding2D(1, 1, 1, 1), PaddedCellsAreZeros: true),
            [TensorShape.Nhwc(2, 9, 8, 5)], [], TensorShape.Nhwc(2, 5, 4, 5));
        yield return new("conv2d 3x3 gelu 1x6x5x3->5", new Conv2DOp(3, 3, 1, 1, 1, 1, new Padding2D(1, 1, 1, 1), 5, true, ActivationFunction.Gelu),
            [TensorShape.Nhwc(1, 6, 5, 3)], [new TensorShape(3, 3, 3, 5), new TensorShape(5)], TensorShape.Nhwc(1, 6, 5, 5));
        yield return new("dense hard swish 3x9->4", new DenseOp(4, true, ActivationFunction.HardSwish),
            [new TensorShape(3, 9)], [new TensorShape(9, 4), new TensorShape(4)], new TensorShape(3, 4));
        yield return new("depthwise leaky relu 1x5x6x4 m3", new DepthwiseConv2DOp(3, 3, 1, 1, 1, 1, new Padding2D(1, 1, 1, 1), 3, true, ActivationFunction.LeakyRelu(0.3f)),
            [TensorShape.Nhwc(1, 5, 6, 4)], [new TensorShape(3, 3, 4, 3), new TensorShape(12)], TensorShape.Nhwc(1, 5, 6, 12));
        yield return new("channel affine elu 2x3x17", new ChannelAffineOp(Enumerable.Range(0, 17).Select(i => 0.5f + 0.1f * i).ToArray(),
                Enumerable.Range(0, 17).Select(i => -0.3f + 0.05f * i).ToArray(), ActivationFunction.Elu(0.7f)),
            [new TensorShape(2, 3, 17)], [], new TensorShape(2, 3, 17));
    }
}
