using System.Reflection;
using ILGPU.Runtime.OpenCL;
using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Ilgpu;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>
/// ILGPU's OpenCL backend on PoCL, a second conformance target. PoCL 3.1 reports OpenCL 3.0 without the generic address
/// space, so ILGPU refuses it (issues #738, #1013, #1534); TEST-ONLY OVERRIDE: this fixture sets ILGPU's private
/// <see cref="CLCapabilityContext.GenericAddressSpace"/> flag by reflection before opening the accelerator. The kernels
/// use no generic pointers (every view is global or shared), so PoCL compiles them. The library's default path never does
/// this: <see cref="IlgpuBackend.OpenClDevice"/> reports such devices unavailable. Null <see cref="Pocl"/> (with
/// <see cref="SkipReason"/>) when no PoCL device is installed.
/// </summary>
public sealed class PoclIlgpuFixture : IDisposable
{
    public PoclIlgpuFixture()
    {
        if (PoclTestEnvironment.SkipReason is { } skip)
        {
            SkipReason = skip;
            return;
        }
        var context = IlgpuDevices.CreateContext(DeviceKind.OpenCL, allOpenClDevices: true);
        var device = context.Devices.OfType<CLDevice>().FirstOrDefault(d => d.PlatformName.Contains("Portable Computing Language", StringComparison.Ordinal));
        if (device is null)
        {
            context.Dispose();
            SkipReason = "no PoCL device (apt-get install pocl-opencl-icd ocl-icd-libopencl1; set POCL_CACHE_DIR to a writable folder)";
            return;
        }
        if (!device.Capabilities.GenericAddressSpace)
            typeof(CLCapabilityContext).GetProperty(nameof(CLCapabilityContext.GenericAddressSpace))!
                .GetSetMethod(nonPublic: true)!.Invoke(device.Capabilities, [true]);
        Pocl = IlgpuBackend.FromAccelerator(context, device.CreateAccelerator(context), "opencl-pocl");
    }

    public IlgpuBackend? Pocl { get; }

    public string? SkipReason { get; }

    public CpuBackend Cpu { get; } = new();

    public void Dispose()
    {
        Pocl?.Dispose();
        Cpu.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class PoclIlgpuCollection : ICollectionFixture<PoclIlgpuFixture>
{
    public const string Name = "ilgpu-pocl";
}
