using System.Diagnostics;
using NativeCnn.Backends.Ilgpu;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>Every kernel specialization the backend can load compiles to PTX for sm_80 and sm_90, without a GPU.</summary>
public sealed class IlgpuPtxTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("sm_80")]
    [InlineData("sm_90")]
    public void EveryKernelCompilesToPtx(string architecture)
    {
        var clock = Stopwatch.StartNew();
        var kernels = IlgpuPtx.Compile(architecture);
        output.WriteLine($"{kernels.Count} kernels for {architecture} in {clock.ElapsedMilliseconds} ms " +
                         $"(slowest {kernels.MaxBy(k => k.Elapsed)!.Name}: {kernels.Max(k => k.Elapsed).TotalMilliseconds:F0} ms)");
        Assert.Equal(IlgpuPtx.KernelCount, kernels.Count);
        Assert.Equal(kernels.Count, kernels.Select(k => k.Name).Distinct().Count());
        Assert.All(kernels, k =>
        {
            Assert.Contains(".entry", k.Assembly);
            // ILGPU 1.5.3 writes the lowest target the kernel's capabilities need (sm_80 features at most), not the requested
            // one: PTX is forward compatible and the driver JIT compiles it for the GPU; the ISA version is the requested one.
            Assert.Contains(".target sm_", k.Assembly);
            Assert.Contains(architecture == "sm_80" ? ".version 7.0" : ".version 7.8", k.Assembly);
        });
        // The tiled convolution stages its tiles in shared memory and synchronizes the group.
        var conv = kernels.First(k => k.Name.StartsWith("conv2d.gpu_tile.", StringComparison.Ordinal)).Assembly;
        Assert.Contains(".shared", conv);
        Assert.Contains("bar.sync", conv);
        // Its 4 x 4 accumulators stay in registers: nothing spills to per-thread local memory.
        Assert.DoesNotContain("ld.local", conv);
    }

    [Fact]
    public void RejectsUnknownArchitecture() =>
        Assert.Contains("sm_90", Assert.Throws<ArgumentException>(() => IlgpuPtx.Compile("sm_12")).Message);
}
