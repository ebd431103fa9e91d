using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Models;

/// <summary>
/// Squeeze-and-excitation's Multiply moving into EfficientNet's projection convolution: the fused plan must compute what
/// the layer-by-layer plan computes, keep the excitation readable, and leave the Multiply in place on a backend that
/// cannot scale a convolution's input channels.
/// </summary>
public class SqueezeExcitationFusionTests
{
    [Fact]
    public void ProjectionScalesItsInputByTheExcitation()
    {
        using var model = ModelZoo.Create("efficientnet-b0", new ApplicationOptions { Resolution = 48 });
        using var backend = new CpuBackend(threadCount: 2);
        const int batch = 3; // images with different excitations
        using var layered = model.CreatePlan(backend, batch, fuse: false);
        // One buffer per fused step, so the fused steps' outputs below stay readable (a fused plan shares their memory).
        using var fused = new ExecutionPlan(model, backend, batch, fuse: true, reuseBuffers: false);
        var input = TestData.Uniform(5, (int)layered.Input.Shape.ElementCount, 0f, 255f);
        layered.Input.CopyFrom(input);
        fused.Input.CopyFrom(input);
        layered.Run();
        fused.Run();

        var squeeze = fused.Steps.Single(s => s.Name == "block2a_se_expand");
        Assert.Equal(new SqueezeExcitationOp(4, ActivationFunction.Swish, ExcitationOnly: true), squeeze.Op);
        var projection = fused.Steps.Single(s => s.Name == "block2a_project_bn");
        Assert.Equal(["block2a_se_excite", "block2a_project_conv", "block2a_project_bn"], projection.Layers.Select(n => n.Name));
        Assert.True(((Conv2DOp)projection.Op).ScalesInputChannels);
        Assert.DoesNotContain(fused.Steps, s => s.Layers.Any(n => n.Layer is NativeCnn.Layers.Multiply) && s.Op is SqueezeExcitationOp);
        var e = Assert.Throws<InvalidOperationException>(() => fused.GetActivation("block2a_se_excite"));
        Assert.Contains("block2a_project_bn", e.Message);

        // The excitation, a deep activation with its residual adds, and the features before the classifier.
        foreach (var layer in new[] { "block2a_se_expand", "block2a_project_bn", "block6d_add", "top_activation" })
        {
            var expected = TestData.ReadBack(layered.GetActivation(layer));
            Precision.AssertClose(expected.Select(v => (double)v).ToArray(), TestData.ReadBack(fused.GetActivation(layer)), 1e-4,
                                  Math.Max(1e-3, expected.Max(Math.Abs)), layer);
        }
    }

    [Fact]
    public void BackendWithoutScaledConvolutionsKeepsTheMultiplyInTheSqueezeExcitation()
    {
        using var model = ModelZoo.Create("efficientnet-b0", new ApplicationOptions { Resolution = 32 });
        using var cpu = new CpuBackend(threadCount: 1);
        using var backend = new CpuBackendWithout(cpu, "input scales", op => op is Conv2DOp { ScalesInputChannels: true });
        using var plan = model.CreatePlan(backend, batch: 1);
        var squeeze = plan.Steps.Single(s => s.Name == "block2a_se_excite");
        Assert.Equal(new SqueezeExcitationOp(4, ActivationFunction.Swish), squeeze.Op);
        Assert.All(plan.Steps.Select(s => s.Op).OfType<Conv2DOp>(), op => Assert.False(op.ScalesInputChannels));
    }
}
