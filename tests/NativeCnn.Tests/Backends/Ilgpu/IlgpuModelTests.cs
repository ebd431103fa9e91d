using System.Diagnostics;
using NativeCnn.Backends;
using NativeCnn.Models;
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
        AssertPlanMatchesCpu(model, fixture.Cpu, fixture.Ilgpu, fuse, output);
    }

    /// <summary>
    /// Plans <paramref name="model"/> at batch 2 on <paramref name="backend"/> and on <paramref name="cpu"/>, runs both on
    /// one seeded input and compares the outputs (≤ 1e-4 of the largest), and for unfused plans a deep layer's too.
    /// </summary>
    internal static void AssertPlanMatchesCpu(Model model, IBackend cpu, IBackend backend, bool fuse, ITestOutputHelper output)
    {
        const int batch = 2;
        using var cpuPlan = model.CreatePlan(cpu, batch, fuse);
        var clock = Stopwatch.StartNew();
        using var plan = model.CreatePlan(backend, batch, fuse);
        var input = TestData.Uniform(model.Input.OutputShape.Height, (int)cpuPlan.Input.Shape.ElementCount, 0f, 255f);
        var expected = new float[cpuPlan.Output.Shape.ElementCount];
        var actual = new float[expected.Length];
        cpuPlan.Run(input, expected);
        plan.Run(input, actual);
        string what = $"{model.Name} {model.Input.OutputShape} batch {batch} fuse={fuse} on {backend.Name}";
        output.WriteLine($"{what}: plan + first run {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(cpuPlan.Output.Shape, plan.Output.Shape);
        Assert.All(actual, v => Assert.True(float.IsFinite(v), $"non-finite output {v}"));
        Precision.AssertClose(expected, actual, 1e-4, expected.Max(Math.Abs), what);
        // Fused plans share activation memory through views of a few device buffers; unfused ones keep every layer's.
        Assert.Equal(fuse, plan.ActivationBytes < plan.ActivationBytesWithoutReuse);
        if (fuse) return;
        // Unfused, every layer's output is kept: compare a deep one before the softmax flattens differences.
        string layer = model.Layers[^2].Name;
        var cpuHidden = Read(cpuPlan.GetActivation(layer));
        var hidden = Read(plan.GetActivation(layer));
        Precision.AssertClose(cpuHidden, hidden, 1e-4, cpuHidden.Max(Math.Abs), $"{what}, layer {layer}");
    }

    private static float[] Read(IDeviceBuffer buffer)
    {
        var values = new float[buffer.Shape.ElementCount];
        buffer.CopyTo(values);
        return values;
    }
}
