using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Layers;
using NativeCnn.Models;

namespace NativeCnn.Tests.Models;

/// <summary>
/// A ZeroPadding2D folded into the convolution after it (VGG-style <c>ZeroPadding2D</c> + <c>Conv2D(activation=...)</c>,
/// Keras's <c>correct_pad</c>): the fused plan computes what the unfused one does, the convolution's own activation included.
/// </summary>
public sealed class PaddingFusionTests
{
    public static TheoryData<int, int, int, int, string, bool> Cases()
    {
        var data = new TheoryData<int, int, int, int, string, bool>();
        foreach (var (top, bottom, left, right) in new[] { (1, 1, 1, 1), (0, 1, 0, 1), (1, 0, 0, 1), (2, 0, 1, 0) })
            foreach (string activation in new[] { "linear", "relu", "tanh", "swish" })
                foreach (bool depthwise in new[] { false, true })
                    data.Add(top, bottom, left, right, activation, depthwise);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AFoldedPaddingKeepsTheConvolutionsActivation(int top, int bottom, int left, int right, string activation, bool depthwise)
    {
        var input = Node.Input(5, 4, 8, "image");
        var padded = new ZeroPadding2D("pad", new Padding2D(top, bottom, left, right)).Call(input);
        var function = ActivationFunction.FromKerasName(activation);
        var x = depthwise
            ? new DepthwiseConv2D("conv", 3, strides: 2, activation: function).Call(padded)
            : new Conv2D("conv", 6, 3, activation: function).Call(padded);
        using var model = new Model("padded", input, x);
        int seed = 1;
        foreach (var weight in model.Weights) TestData.Uniform(++seed, weight.Value.Length).CopyTo(weight.Value.Span);
        var values = TestData.Uniform(7, 3 * 5 * 4 * 8, -2f, 2f);

        using var backend = new CpuBackend(2);
        using var fused = model.CreatePlan(backend, 3, fuse: true);
        using var plain = model.CreatePlan(backend, 3, fuse: false);
        Assert.Single(fused.Steps);
        foreach (var plan in new[] { fused, plain })
        {
            plan.Input.CopyFrom(values);
            plan.Run();
        }
        var expected = TestData.ReadBack(plain.Output);
        var actual = TestData.ReadBack(fused.Output);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * Math.Max(1, Math.Abs(expected[i])), $"value {i}: {actual[i]} vs {expected[i]}");
    }
}
