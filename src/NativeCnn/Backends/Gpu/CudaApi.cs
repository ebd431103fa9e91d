using System.Runtime.InteropServices;
using System.Text;

namespace NativeCnn.Backends.Gpu;

/// <summary>
/// The CUDA driver API calls the GPU backend needs (<c>libcuda.so.1</c>, which comes with the NVIDIA driver). It uses the
/// primary context rather than <c>cuCtxCreate</c>, whose signature changed in CUDA 13. A <c>CUdeviceptr</c> is a
/// <c>ulong</c>; a missing entry point (a driver too old) surfaces as <see cref="EntryPointNotFoundException"/>.
/// </summary>
internal static unsafe partial class CudaApi
{
    private const string Lib = NativeLibraries.Cuda;

    static CudaApi() => NativeLibraries.Register();

    public const int Success = 0;
    public const int AttributeComputeCapabilityMajor = 75, AttributeComputeCapabilityMinor = 76;

    [LibraryImport(Lib)] public static partial int cuInit(uint flags);
    [LibraryImport(Lib)] public static partial int cuDriverGetVersion(int* version);
    [LibraryImport(Lib)] public static partial int cuDeviceGetCount(int* count);
    [LibraryImport(Lib)] public static partial int cuDeviceGet(int* device, int ordinal);
    [LibraryImport(Lib)] public static partial int cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Lib)] public static partial int cuDeviceGetAttribute(int* value, int attribute, int device);
    [LibraryImport(Lib)] public static partial int cuDevicePrimaryCtxRetain(nint* context, int device);
    [LibraryImport(Lib)] public static partial int cuDevicePrimaryCtxRelease_v2(int device);
    [LibraryImport(Lib)] public static partial int cuCtxSetCurrent(nint context);
    [LibraryImport(Lib)] public static partial int cuCtxSynchronize();
    [LibraryImport(Lib)] public static partial int cuModuleLoadData(nint* module, void* image);
    [LibraryImport(Lib)] public static partial int cuModuleGetFunction(nint* function, nint module, byte* name);
    [LibraryImport(Lib)] public static partial int cuModuleUnload(nint module);
    [LibraryImport(Lib)] public static partial int cuMemAlloc_v2(ulong* pointer, nuint size);
    [LibraryImport(Lib)] public static partial int cuMemFree_v2(ulong pointer);
    [LibraryImport(Lib)] public static partial int cuMemcpyHtoD_v2(ulong destination, void* source, nuint size);
    [LibraryImport(Lib)] public static partial int cuMemcpyDtoH_v2(void* destination, ulong source, nuint size);
    [LibraryImport(Lib)] public static partial int cuMemsetD32_v2(ulong destination, uint value, nuint count);
    [LibraryImport(Lib)] public static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ,
        uint blockX, uint blockY, uint blockZ, uint sharedBytes, nint stream, void** parameters, void** extra);
    [LibraryImport(Lib)] public static partial int cuGetErrorName(int code, byte** name);

    /// <summary>Throws a <see cref="GpuException"/> naming <paramref name="api"/> unless <paramref name="code"/> is success.</summary>
    public static void Check(int code, string api, string? detail = null)
    {
        if (code != Success) throw new GpuException(api, code, ErrorName(code), detail);
    }

    /// <summary>The driver's name for an error code, e.g. <c>CUDA_ERROR_STUB_LIBRARY</c>.</summary>
    public static string ErrorName(int code)
    {
        byte* name = null;
        return cuGetErrorName(code, &name) == Success && name != null ? Marshal.PtrToStringUTF8((nint)name) ?? "CUresult" : "CUresult";
    }

    /// <summary>The device's marketing name.</summary>
    public static string DeviceName(int device)
    {
        byte* name = stackalloc byte[256];
        Check(cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        return Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(name));
    }

    /// <summary>An integer device attribute.</summary>
    public static int Attribute(int device, int attribute)
    {
        int value;
        Check(cuDeviceGetAttribute(&value, attribute, device), "cuDeviceGetAttribute");
        return value;
    }
}
