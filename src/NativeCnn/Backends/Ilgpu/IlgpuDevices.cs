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
    /// <summary>
    /// The simulated CPU device: 4 threads per warp, 4 warps per group, 1 multiprocessor. The CPU accelerator runs each
    /// simulated thread as an OS thread, so 16-thread groups (the conv's 4 × 4 tile) keep the tests fast.
    /// </summary>
    internal static CPUDevice CpuDevice() => new(4, 4, 1);

    /// <summary>The <c>ilgpu-cpu</c> device; always available.</summary>
    internal static Device Cpu { get; } = new(DeviceKind.IlgpuCpu, "ILGPU CPU accelerator (simulated GPU threads)");

    /// <summary>A context with the accelerators of <paramref name="kind"/> (and ILGPU's CPU one, which it always adds).</summary>
    internal static Context CreateContext(DeviceKind kind, bool allOpenClDevices = false)
    {
        NativeLibraries.InstallResolver();
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
        try
        {
            using var context = CreateContext(DeviceKind.Cuda);
            return DescribeCuda(CudaDevices(context), ordinal);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Unavailable(DeviceKind.Cuda, 0, ordinal, $"cuda:{ordinal}", $"ILGPU failed to list CUDA devices: {ex.Message}");
        }
    }

    /// <summary>
    /// The ILGPU OpenCL device <paramref name="device"/> of platform <paramref name="platform"/> (platforms numbered in the
    /// order ILGPU lists their devices), or why there is none: a device ILGPU refuses (OpenCL 1.2, or no generic address
    /// space, as PoCL on CPUs) is named with the reason.
    /// </summary>
    internal static Device OpenCL(int platform, int device)
    {
        if (!NativeLibraries.TryLoad(NativeLibraries.OpenCl, out _))
            return Unavailable(DeviceKind.OpenCL, platform, device, $"opencl:{platform}:{device}", NoOpenClLoader);
        try
        {
            using var context = CreateContext(DeviceKind.OpenCL, allOpenClDevices: true);
            return DescribeOpenCl(context, platform, device);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Unavailable(DeviceKind.OpenCL, platform, device, $"opencl:{platform}:{device}", $"ILGPU failed to list OpenCL devices: {ex.Message}");
        }
    }

    /// <summary>
    /// Every usable CUDA device, then every usable OpenCL device platform by platform, from one context per API (not one
    /// per device). What cannot be listed is left out; <see cref="Cuda"/> and <see cref="OpenCL"/> say why.
    /// </summary>
    internal static List<Device> ListAvailable()
    {
        var found = new List<Device>();
        try
        {
            using var context = CreateContext(DeviceKind.Cuda);
            var cuda = CudaDevices(context);
            for (int ordinal = 0; ordinal < cuda.Length; ordinal++) found.Add(DescribeCuda(cuda, ordinal));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A driver that fails while listing lists nothing here; Device.Cuda reports the failure.
        }
        if (!NativeLibraries.TryLoad(NativeLibraries.OpenCl, out _)) return found;
        try
        {
            using var context = CreateContext(DeviceKind.OpenCL, allOpenClDevices: true);
            var platforms = OpenClPlatforms(context);
            for (int platform = 0; platform < platforms.Length; platform++)
                for (int device = 0; device < platforms[platform].Length; device++)
                    if (DescribeOpenCl(context, platform, device) is { IsAvailable: true } usable) found.Add(usable);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // As above: Device.OpenCL reports the failure.
        }
        return found;
    }

    private const string NoOpenClLoader =
        "no OpenCL ICD loader (libOpenCL.so.1 not found; install ocl-icd-libopencl1 and a vendor driver)";

    private static ILGPU.Runtime.Device[] CudaDevices(Context context) =>
        [.. context.Devices.Where(d => d.AcceleratorType == AcceleratorType.Cuda)];

    private static Device DescribeCuda(ILGPU.Runtime.Device[] devices, int ordinal)
    {
        string id = $"cuda:{ordinal}";
        if (devices.Length == 0)
            return Unavailable(DeviceKind.Cuda, 0, ordinal, id,
                NativeLibraries.TryLoad(NativeLibraries.Cuda, out _) ? "ILGPU found no CUDA device (the driver loaded, but lists none or failed to initialize)"
                    : "no CUDA driver (libcuda.so.1 not found)");
        if ((uint)ordinal >= (uint)devices.Length)
            return Unavailable(DeviceKind.Cuda, 0, ordinal, id, $"CUDA device {ordinal} does not exist ({devices.Length} present)");
        return new Device(DeviceKind.Cuda, devices[ordinal].Name) { Index = ordinal, IsGpu = true };
    }

    private static Device DescribeOpenCl(Context context, int platform, int device)
    {
        var found = FindOpenCl(context, platform, device, out string? reason);
        if (found is null) return Unavailable(DeviceKind.OpenCL, platform, device, $"opencl:{platform}:{device}", reason!);
        string name = found.Name.Trim();
        if (!found.Capabilities.GenericAddressSpace)
            return Unavailable(DeviceKind.OpenCL, platform, device, name,
                $"ILGPU needs OpenCL 2.0+ with the generic address space; {name} ({found.DeviceVersion}) does not report it");
        bool isGpu = found.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU;
        return new Device(DeviceKind.OpenCL, name) { Platform = platform, Index = device, IsGpu = isGpu };
    }

    private static CLDevice[][] OpenClPlatforms(Context context) =>
        [.. context.Devices.OfType<CLDevice>().GroupBy(d => d.PlatformId).Select(g => g.ToArray())];

    /// <summary>Device <paramref name="device"/> of the <paramref name="platform"/>-th platform among <paramref name="context"/>'s OpenCL devices.</summary>
    internal static CLDevice? FindOpenCl(Context context, int platform, int device, out string? reason)
    {
        var platforms = OpenClPlatforms(context);
        reason = null;
        // PoCL lists no device when it cannot write its kernel cache (POCL_CACHE_DIR).
        if (platforms.Length == 0) reason = "no OpenCL platform with a device (PoCL lists none when POCL_CACHE_DIR is not writable)";
        else if ((uint)platform >= (uint)platforms.Length) reason = $"OpenCL platform {platform} does not exist ({platforms.Length} present)";
        else if ((uint)device >= (uint)platforms[platform].Length) reason = $"OpenCL device {device} does not exist ({platforms[platform].Length} on platform {platform})";
        else return platforms[platform][device];
        return null;
    }

    private static Device Unavailable(DeviceKind kind, int platform, int index, string name, string reason) =>
        new(kind, name) { Platform = platform, Index = index, UnavailableReason = reason };
}
