using NativeCnn.Backends;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Tests.Backends.Gpu;

/// <summary>Whole Keras applications (seeded weights, reduced resolution) planned on OpenCL against the CPU plan.</summary>
[Collection(OpenClCollection.Name)]
public sealed class OpenClModelTests(OpenClFixture fixture)
{
    [GpuTheory]
    [InlineData("efficientnet-b0", 64, true)]
    [InlineData("mobilenetv2", 72, true)]
    [InlineData("mobilenetv2", 72, false)]
    [InlineData("resnet50", 64, true)]
    public void MatchesCpuPlan(string architecture, int resolution, bool fuse)
    {
        using var model = ModelZoo.Create(architecture, new ApplicationOptions { Resolution = resolution });
        const int batch = 2;
        using var cpuPlan = model.CreatePlan(fixture.Cpu, batch, fuse);
        using var gpuPlan = model.CreatePlan(fixture.OpenCl, batch, fuse);
        var input = TestData.Uniform(resolution, (int)cpuPlan.Input.Shape.ElementCount, 0f, 255f);
        var expected = new float[cpuPlan.Output.Shape.ElementCount];
        var actual = new float[expected.Length];
        cpuPlan.Run(input, expected);
        gpuPlan.Run(input, actual);
        double scale = expected.Max(Math.Abs);
        Precision.AssertClose(expected, actual, 1e-4, scale, $"{architecture} {resolution}px fuse={fuse}");
        // Fused plans share activation memory through views of a few device buffers; unfused ones keep every layer's.
        Assert.Equal(fuse, gpuPlan.ActivationBytes < gpuPlan.ActivationBytesWithoutReuse);
        if (fuse) return;
        // Unfused, every layer's output is kept: compare a deep one before the softmax flattens differences.
        string layer = model.Layers[^2].Name;
        var cpuHidden = Read(cpuPlan.GetActivation(layer));
        var gpuHidden = Read(gpuPlan.GetActivation(layer));
        Precision.AssertClose(cpuHidden, gpuHidden, 1e-4, cpuHidden.Max(Math.Abs), $"{architecture} layer {layer}");
    }

    private static float[] Read(IDeviceBuffer buffer)
    {
        var values = new float[buffer.Shape.ElementCount];
        buffer.CopyTo(values);
        return values;
    }
}
