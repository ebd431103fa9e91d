namespace NativeCnn.Backends.Gpu;

/// <summary>Looks up the OpenCL and CUDA devices for <see cref="Device"/>; never throws (an absent device says why).</summary>
internal static class GpuDevices
{
    /// <summary><see cref="Device.OpenCL"/>.</summary>
    internal static Device OpenCL(int platform, int device)
    {
        string id = $"opencl:{platform}:{device}";
        if (!NativeLibraries.TryLoad(NativeLibraries.OpenCl, out _))
            return Unavailable(DeviceKind.OpenCL, platform, device, id,
                "no OpenCL ICD loader (libOpenCL.so.1 not found; install ocl-icd-libopencl1 and a vendor driver, e.g. pocl-opencl-icd)");
        try
        {
            var platforms = OpenClApi.Platforms();
            if (platforms.Length == 0)
                return Unavailable(DeviceKind.OpenCL, platform, device, id,
                    "no OpenCL platform (CL_PLATFORM_NOT_FOUND_KHR): the ICD loader found no vendor driver (install one, e.g. pocl-opencl-icd)");
            if ((uint)platform >= (uint)platforms.Length)
                return Unavailable(DeviceKind.OpenCL, platform, device, id, $"OpenCL platform {platform} does not exist ({platforms.Length} present)");
            var devices = OpenClApi.Devices(platforms[platform]);
            if (devices.Length == 0)
                return Unavailable(DeviceKind.OpenCL, platform, device, id,
                    "no OpenCL device on the platform (CL_DEVICE_NOT_FOUND; PoCL reports this when POCL_CACHE_DIR is not writable)");
            if ((uint)device >= (uint)devices.Length)
                return Unavailable(DeviceKind.OpenCL, platform, device, id, $"OpenCL device {device} does not exist ({devices.Length} on platform {platform})");
            string name = OpenClApi.InfoString(devices[device], OpenClApi.DeviceName, platform: false);
            const ulong gpuType = 1 << 2;
            bool isGpu = (OpenClApi.DeviceNumber(devices[device], OpenClApi.DeviceType) & gpuType) != 0;
            return new Device(DeviceKind.OpenCL, name) { Platform = platform, Index = device, IsGpu = isGpu };
        }
        catch (Exception ex) when (ex is GpuException or EntryPointNotFoundException)
        {
            return Unavailable(DeviceKind.OpenCL, platform, device, id, $"OpenCL failed: {ex.Message}");
        }
    }

    /// <summary><see cref="Device.Cuda"/>.</summary>
    internal static unsafe Device Cuda(int ordinal)
    {
        string id = $"cuda:{ordinal}";
        if (!NativeLibraries.TryLoad(NativeLibraries.Cuda, out _))
            return Unavailable(DeviceKind.Cuda, 0, ordinal, id, "no CUDA driver (libcuda.so.1 not found)");
        string name;
        try
        {
            int code = CudaApi.cuInit(0);
            if (code != CudaApi.Success)
                return Unavailable(DeviceKind.Cuda, 0, ordinal, id, $"the CUDA driver failed to initialize: cuInit returned {code} ({CudaApi.ErrorName(code)})");
            int count;
            CudaApi.Check(CudaApi.cuDeviceGetCount(&count), "cuDeviceGetCount");
            if ((uint)ordinal >= (uint)count)
                return Unavailable(DeviceKind.Cuda, 0, ordinal, id, $"CUDA device {ordinal} does not exist ({count} present)");
            int device;
            CudaApi.Check(CudaApi.cuDeviceGet(&device, ordinal), "cuDeviceGet");
            name = CudaApi.DeviceName(device);
        }
        catch (EntryPointNotFoundException ex)
        {
            return Unavailable(DeviceKind.Cuda, 0, ordinal, id, $"the CUDA driver is too old: {ex.Message}");
        }
        catch (GpuException ex)
        {
            return Unavailable(DeviceKind.Cuda, 0, ordinal, id, ex.Message);
        }
        if (!NativeLibraries.TryLoad(NativeLibraries.Nvrtc, out _))
            return Unavailable(DeviceKind.Cuda, 0, ordinal, name,
                "NVRTC missing (libnvrtc.so.13/.12/.11.x not found; install the CUDA toolkit or set CUDA_PATH or LD_LIBRARY_PATH)");
        try
        {
            int major, minor, archs;
            NvrtcApi.nvrtcVersion(&major, &minor);
            NvrtcApi.nvrtcGetNumSupportedArchs(&archs);
        }
        catch (EntryPointNotFoundException ex)
        {
            return Unavailable(DeviceKind.Cuda, 0, ordinal, name, $"NVRTC is too old (11.2 or newer needed): {ex.Message}");
        }
        return new Device(DeviceKind.Cuda, name) { Index = ordinal, IsGpu = true };
    }

    /// <summary>OpenCL platforms present (0 without a loader or when it fails).</summary>
    internal static int OpenClPlatformCount()
    {
        if (!NativeLibraries.TryLoad(NativeLibraries.OpenCl, out _)) return 0;
        try
        {
            return OpenClApi.Platforms().Length;
        }
        catch (GpuException)
        {
            return 0;
        }
    }

    private static Device Unavailable(DeviceKind kind, int platform, int index, string name, string reason) =>
        new(kind, name) { Platform = platform, Index = index, UnavailableReason = reason };
}
