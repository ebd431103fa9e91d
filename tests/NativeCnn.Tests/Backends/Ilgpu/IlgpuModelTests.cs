using System.Diagnostics;
using NativeCnn.Models.Architectures;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>
/// A whole Keras application (seeded weights, 32 px, batch 2) planned on ilgpu-cpu against the CPU plan, fused (SE
/// excitation folded into the projection conv, residual adds into convs, BatchNormalization into convs).
/// </summary>
[Collection(IlgpuCollection.Name)]
public sealed class IlgpuModelTests(IlgpuFixture fixture, ITestOutputHelper output)
{
    [Theory]
    // Fused only: on this 2-core machine the fused plan takes about 45 s and the unfused one about 90 s, since the CPU
    // accelerator runs every simulated thread as an OS thread; the unfused ops are each in the op catalog anyway.
    [InlineData("efficientnet-b0", 32, true)]
    public void MatchesCpuPlan(string architecture, int resolution, bool fuse)
    {
        using var model = ModelZoo.Create(architecture, new ApplicationOptions { Resolution = resolution });
        const int batch = 2;
        using var cpuPlan = model.CreatePlan(fixture.Cpu, batch, fuse);
        var clock = Stopwatch.StartNew();
        using var ilgpuPlan = model.CreatePlan(fixture.Ilgpu, batch, fuse);
        var input = TestData.Uniform(resolution, (int)cpuPlan.Input.Shape.ElementCount, 0f, 255f);
        var expected = new float[cpuPlan.Output.Shape.ElementCount];
        var actual = new float[expected.Length];
        cpuPlan.Run(input, expected);
        ilgpuPlan.Run(input, actual);
        output.WriteLine($"{architecture} {resolution}px batch {batch} fuse={fuse} on {fixture.Ilgpu.Name}: plan + first run {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(cpuPlan.Output.Shape, ilgpuPlan.Output.Shape);
        Assert.All(actual, v => Assert.True(float.IsFinite(v), $"non-finite output {v}"));
        double scale = expected.Max(Math.Abs);
        Precision.AssertClose(expected, actual, 1e-4, scale, $"{architecture} {resolution}px fuse={fuse}");
    }
}
