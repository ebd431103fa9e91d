using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Ilgpu;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>One ilgpu-cpu backend and one CPU backend for the test run: ILGPU compiles each kernel specialization once per backend.</summary>
public sealed class IlgpuFixture : IDisposable
{
    /// <summary>The ilgpu-cpu backend.</summary>
    public IlgpuBackend Ilgpu { get; } = IlgpuBackend.Create(Device.IlgpuCpu);

    /// <summary>The reference backend.</summary>
    public CpuBackend Cpu { get; } = new();

    /// <inheritdoc/>
    public void Dispose()
    {
        Ilgpu.Dispose();
        Cpu.Dispose();
    }
}

/// <summary>The tests that share <see cref="IlgpuFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class IlgpuCollection : ICollectionFixture<IlgpuFixture>
{
    public const string Name = "ilgpu-cpu";
}
