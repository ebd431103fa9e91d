using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Models;

/// <summary>Consecutive per-channel affine layers (EfficientNet's preprocessing) planned as one composed affine map.</summary>
public class AffineFusionTests
{
    [Fact]
    public void ConsecutiveAffineLayersRunAsOneComposedMap()
    {
        var input = Node.Input(height: 5, width: 4, channels: 3);
        var x = new Rescaling("rescaling", 1f / 255).Call(input);
        x = new Normalization("normalization", mean: [0.485f, 0.456f, 0.406f], variance: [0.229f * 0.229f, 0.224f * 0.224f, 0.225f * 0.225f]).Call(x);
        x = new Rescaling("rescaling_1", [1 / 0.229f, 1 / 0.224f, 1 / 0.225f], [0f, 0f, 0f]).Call(x);
        x = new Activation("relu", ActivationFunction.Relu).Call(x);
        var output = new Conv2D("conv", filters: 2, kernelSize: 1).Call(x);
        using var model = new Model("affine", input, output);
        using var backend = new CpuBackend(threadCount: 1);
        using var layered = model.CreatePlan(backend, batch: 2, fuse: false);
        using var fused = model.CreatePlan(backend, batch: 2);

        var affine = fused.Steps[0];
        Assert.Equal(["rescaling", "normalization", "rescaling_1", "relu"], affine.Layers.Select(n => n.Name));
        var op = Assert.IsType<ChannelAffineOp>(affine.Op);
        Assert.Equal(ActivationFunction.Relu, op.Activation);

        var pixels = TestData.Uniform(3, 2 * 5 * 4 * 3, 0f, 255f);
        layered.Input.CopyFrom(pixels);
        fused.Input.CopyFrom(pixels);
        layered.Run();
        fused.Run();
        var expected = new float[layered.GetActivation("relu").Shape.ElementCount];
        var actual = new float[expected.Length];
        layered.GetActivation("relu").CopyTo(expected);
        fused.GetActivation("relu").CopyTo(actual);
        // Composing the maps in float64 changes only the float rounding of the three steps.
        Precision.AssertClose(expected.Select(v => (double)v).ToArray(), actual, 1e-6, 1.0, "composed affine");
        Assert.Contains(expected, v => v == 0f); // the ReLU clipped some pixels
        Assert.Contains(expected, v => v > 0.5f);
    }
}
