using System.Diagnostics;
using NativeCnn.Backends;
using NativeCnn.Models.Architectures;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>
/// A whole Keras application (seeded weights, reduced size) planned on ILGPU's OpenCL backend on PoCL (test-only
/// capability override, see <see cref="PoclIlgpuFixture"/>) against the CPU plan, fused and unfused.
/// </summary>
[Collection(PoclIlgpuCollection.Name)]
public sealed class PoclIlgpuModelTests(PoclIlgpuFixture fixture, ITestOutputHelper output)
{
    [PoclTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void MobileNetV2MatchesCpuPlan(bool fuse)
    {
        if (fixture.Pocl is null)
        {
            Assert.Fail(fixture.SkipReason);
            return;
        }
        using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 32 });
        const int batch = 2;
        using var cpuPlan = model.CreatePlan(fixture.Cpu, batch, fuse);
        var clock = Stopwatch.StartNew();
        using var gpuPlan = model.CreatePlan(fixture.Pocl, batch, fuse);
        var input = TestData.Uniform(32, (int)cpuPlan.Input.Shape.ElementCount, 0f, 255f);
        var expected = new float[cpuPlan.Output.Shape.ElementCount];
        var actual = new float[expected.Length];
        cpuPlan.Run(input, expected);
        gpuPlan.Run(input, actual);
        output.WriteLine($"mobilenetv2 0.35 32px batch {batch} fuse={fuse} on {fixture.Pocl.Name}: plan + first run {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(cpuPlan.Output.Shape, gpuPlan.Output.Shape);
        Assert.All(actual, v => Assert.True(float.IsFinite(v), $"non-finite output {v}"));
        Precision.AssertClose(expected, actual, 1e-4, expected.Max(Math.Abs), $"mobilenetv2 fuse={fuse}");
        // Fused plans share activation memory through views of a few device buffers; unfused ones keep every layer's.
        Assert.Equal(fuse, gpuPlan.ActivationBytes < gpuPlan.ActivationBytesWithoutReuse);
        if (fuse) return;
        // Unfused, every layer's output is kept: compare a deep one before the softmax flattens differences.
        string layer = model.Layers[^2].Name;
        var cpuHidden = Read(cpuPlan.GetActivation(layer));
        var gpuHidden = Read(gpuPlan.GetActivation(layer));
        Precision.AssertClose(cpuHidden, gpuHidden, 1e-4, cpuHidden.Max(Math.Abs), $"mobilenetv2 layer {layer}");
    }

    private static float[] Read(IDeviceBuffer buffer)
    {
        var values = new float[buffer.Shape.ElementCount];
        buffer.CopyTo(values);
        return values;
    }
}
