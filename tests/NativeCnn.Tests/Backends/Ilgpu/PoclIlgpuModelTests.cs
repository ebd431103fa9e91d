using NativeCnn.Models.Architectures;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>
/// MobileNetV2 (α 0.35, seeded weights, 32 px, batch 2) planned on ILGPU's OpenCL backend on PoCL (test-only capability
/// override, see <see cref="PoclIlgpuFixture"/>) against the CPU plan, fused and unfused.
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
        IlgpuModelTests.AssertPlanMatchesCpu(model, fixture.Cpu, fixture.Pocl, fuse, output);
    }
}
