using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Gpu;

namespace NativeCnn.Tests.Backends.Gpu;

/// <summary>
/// One OpenCL backend (PoCL in CI) and one CPU backend for the whole test run, because PoCL builds the program and
/// compiles each kernel once per process. No platform is a failure with the install command, never a silent skip.
/// </summary>
public sealed class OpenClFixture : IDisposable
{
    private readonly IBackend? _openCl;
    private readonly CpuBackend _cpu = new();

    /// <summary>Opens OpenCL platform 0, device 0.</summary>
    public OpenClFixture()
    {
        if (GpuTestEnvironment.SkipReason is not null) return;
        var device = Device.OpenCL();
        if (!device.IsAvailable)
            throw new InvalidOperationException($"OpenCL is unavailable: {device.UnavailableReason}. Install it with " +
                $"'{GpuTestEnvironment.InstallCommand}', or set {GpuTestEnvironment.SkipVariable}=1 to skip the GPU tests.");
        _openCl = device.CreateBackend();
    }

    /// <summary>The OpenCL backend.</summary>
    public IBackend OpenCl => _openCl ?? throw new InvalidOperationException("GPU tests are skipped.");

    /// <summary>The reference backend.</summary>
    public IBackend Cpu => _cpu;

    /// <inheritdoc/>
    public void Dispose()
    {
        _openCl?.Dispose();
        _cpu.Dispose();
    }
}
