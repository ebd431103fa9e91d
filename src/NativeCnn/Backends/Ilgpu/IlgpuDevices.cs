using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace NativeCnn.Backends.Ilgpu;

/// <summary>
/// Finds ILGPU's accelerators for <see cref="Device"/> and <see cref="IlgpuBackend"/>; discovery never throws (an absent
/// device says why). Devices are picked by <see cref="AcceleratorType"/>: ILGPU lists a CPU accelerator in every
/// context, even one built for CUDA only.
/// </summary>
internal static class IlgpuDevices
{
    private static readonly Lock s_lock = new();
    private static bool s_resolverInstalled;

    /// <summary>
    /// The simulated CPU device: 4 threads per warp, 4 warps per group, 1 multiprocessor. The CPU accelerator runs each
    /// simulated thread as an OS thread, so 16-thread groups (the conv's 4 × 4 tile) keep the tests fast.
    /// </summary>
    internal static CPUDevice CpuDevice() => new(4, 4, 1);

    /// <summary>The <c>ilgpu-cpu</c> device; always available.</summary>
    internal static Device Cpu { get; } = new(DeviceKind.IlgpuCpu, "ILGPU CPU accelerator (simulated GPU threads)");

    /// <summary>
    /// ILGPU P/Invokes <c>"cuda"</c> and <c>"OpenCL"</c>, which .NET probes as <c>libcuda.so</c>/<c>libOpenCL.so</c>: only
    /// the -dev packages ship those, drivers ship <c>.so.1</c>. An assembly takes one resolver, so this is ILGPU's, mapping
    /// through <see cref="Gpu.NativeLibraries"/> (which holds our own assembly's). Installing fails only if the host
    /// application set one on ILGPU first; then its resolver is kept.
    /// </summary>
    internal static void InstallResolver()
    {
        lock (s_lock)
        {
            if (s_resolverInstalled) return;
            s_resolverInstalled = true;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // The application installed its own resolver for ILGPU; it decides where the drivers are.
            }
        }
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) => name switch
    {
        "cuda" or "nvcuda" => Gpu.NativeLibraries.TryLoad(Gpu.NativeLibraries.Cuda, out var cuda) ? cuda : 0,
        "OpenCL" => Gpu.NativeLibraries.TryLoad(Gpu.NativeLibraries.OpenCl, out var openCl) ? openCl : 0,
        _ => 0,
    };

    /// <summary>A context with the accelerators of <paramref name="kind"/> (and ILGPU's CPU one, which it always adds).</summary>
    internal static Context CreateContext(DeviceKind kind, bool allOpenClDevices = false)
    {
        InstallResolver();
        return Context.Create(builder =>
        {
            builder.Optimize(OptimizationLevel.O2).EnableAlgorithms();
            switch (kind)
            {
                case DeviceKind.Cuda: builder.Cuda(); break;
                // OpenCL(): ILGPU's default filter keeps only devices it supports (OpenCL 2.0+, generic address space).
                case DeviceKind.OpenCL when allOpenClDevices: builder.OpenCL(_ => true); break;
                case DeviceKind.OpenCL: builder.OpenCL(); break;
                default: builder.CPU(CpuDevice()); break;
            }
        });
    }

    /// <summary>The ILGPU CUDA device <paramref name="ordinal"/>, or why there is none.</summary>
    internal static Device Cuda(int ordinal)
    {
        string id = $"cuda:{ordinal}";
        try
        {
            using var context = CreateContext(DeviceKind.Cuda);
            var devices = context.Devices.Where(d => d.AcceleratorType == AcceleratorType.Cuda).ToArray();
            if (devices.Length == 0)
                return Unavailable(DeviceKind.Cuda, 0, ordinal, id,
                    Gpu.NativeLibraries.TryLoad(Gpu.NativeLibraries.Cuda, out _) ? "ILGPU found no CUDA device (the driver loaded, but lists none or failed to initialize)"
                        : "no CUDA driver (libcuda.so.1 not found)");
            if ((uint)ordinal >= (uint)devices.Length)
                return Unavailable(DeviceKind.Cuda, 0, ordinal, id, $"CUDA device {ordinal} does not exist ({devices.Length} present)");
            return new Device(DeviceKind.Cuda, devices[ordinal].Name) { Index = ordinal, IsGpu = true };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Unavailable(DeviceKind.Cuda, 0, ordinal, id, $"ILGPU failed to list CUDA devices: {ex.Message}");
        }
    }

    /// <summary>
    /// The ILGPU OpenCL device <paramref name="device"/> of platform <paramref name="platform"/> (platforms numbered in the
    /// order ILGPU lists their devices), or why there is none: a device ILGPU refuses (OpenCL 1.2, or no generic address
    /// space, as PoCL on CPUs) is named with the reason.
    /// </summary>
    internal static Device OpenCL(int platform, int device)
    {
        string id = $"opencl:{platform}:{device}";
        if (!Gpu.NativeLibraries.TryLoad(Gpu.NativeLibraries.OpenCl, out _))
            return Unavailable(DeviceKind.OpenCL, platform, device, id, "no OpenCL ICD loader (libOpenCL.so.1 not found)");
        try
        {
            using var context = CreateContext(DeviceKind.OpenCL, allOpenClDevices: true);
            var found = FindOpenCl(context, platform, device, out string? reason);
            if (found is null) return Unavailable(DeviceKind.OpenCL, platform, device, id, reason!);
            if (!found.Capabilities.GenericAddressSpace)
                return Unavailable(DeviceKind.OpenCL, platform, device, found.Name.Trim(),
                    $"ILGPU needs OpenCL 2.0+ with the generic address space; {found.Name.Trim()} ({found.DeviceVersion}) does not report it");
            bool isGpu = found.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU;
            return new Device(DeviceKind.OpenCL, found.Name.Trim()) { Platform = platform, Index = device, IsGpu = isGpu };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Unavailable(DeviceKind.OpenCL, platform, device, id, $"ILGPU failed to list OpenCL devices: {ex.Message}");
        }
    }

    /// <summary>Device <paramref name="device"/> of the <paramref name="platform"/>-th platform among <paramref name="context"/>'s OpenCL devices.</summary>
    internal static CLDevice? FindOpenCl(Context context, int platform, int device, out string? reason)
    {
        var platforms = context.Devices.OfType<CLDevice>().GroupBy(d => d.PlatformId).Select(g => g.ToArray()).ToArray();
        reason = null;
        if (platforms.Length == 0) reason = "no OpenCL platform with a device";
        else if ((uint)platform >= (uint)platforms.Length) reason = $"OpenCL platform {platform} does not exist ({platforms.Length} present)";
        else if ((uint)device >= (uint)platforms[platform].Length) reason = $"OpenCL device {device} does not exist ({platforms[platform].Length} on platform {platform})";
        else return platforms[platform][device];
        return null;
    }

    private static Device Unavailable(DeviceKind kind, int platform, int index, string name, string reason) =>
        new(kind, name) { Platform = platform, Index = index, UnavailableReason = reason };
}
