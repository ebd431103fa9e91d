using System.Runtime.InteropServices;
using System.Text;

namespace NativeCnn.Backends.Gpu;

/// <summary>
/// The OpenCL 1.2/2.0 host calls the GPU backend needs, as source-generated <c>[LibraryImport]</c> (no marshalling IL, so
/// trimming and AOT are safe). Handles are <c>nint</c>, <c>size_t</c> is <c>nuint</c>, <c>cl_bool</c> is <c>uint</c>.
/// </summary>
internal static unsafe partial class OpenClApi
{
    private const string Lib = NativeLibraries.OpenCl;

    static OpenClApi() => NativeLibraries.Register();

    public const int Success = 0;
    public const int DeviceNotFound = -1;
    public const int BuildProgramFailure = -11;
    public const int PlatformNotFoundKhr = -1001;
    public const ulong DeviceTypeAll = 0xFFFFFFFF;
    public const uint PlatformName = 0x0902, PlatformVersion = 0x0901;
    public const uint DeviceType = 0x1000, DeviceMaxWorkGroupSize = 0x1004, DeviceName = 0x102B;
    public const uint ProgramBuildLog = 0x1183;
    public const ulong MemReadWrite = 1;

    [LibraryImport(Lib)] public static partial int clGetPlatformIDs(uint numEntries, nint* platforms, uint* numPlatforms);
    [LibraryImport(Lib)] public static partial int clGetPlatformInfo(nint platform, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] public static partial int clGetDeviceIDs(nint platform, ulong type, uint numEntries, nint* devices, uint* numDevices);
    [LibraryImport(Lib)] public static partial int clGetDeviceInfo(nint device, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] public static partial nint clCreateContext(nint* properties, uint numDevices, nint* devices, nint notify, nint userData, int* error);
    [LibraryImport(Lib)] public static partial nint clCreateCommandQueueWithProperties(nint context, nint device, ulong* properties, int* error);
    [LibraryImport(Lib)] public static partial nint clCreateCommandQueue(nint context, nint device, ulong properties, int* error);
    [LibraryImport(Lib)] public static partial int clFinish(nint queue);
    [LibraryImport(Lib)] public static partial nint clCreateProgramWithSource(nint context, uint count, byte** strings, nuint* lengths, int* error);
    [LibraryImport(Lib)] public static partial int clBuildProgram(nint program, uint numDevices, nint* devices, byte* options, nint notify, nint userData);
    [LibraryImport(Lib)] public static partial int clGetProgramBuildInfo(nint program, nint device, uint param, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Lib)] public static partial nint clCreateKernel(nint program, byte* name, int* error);
    [LibraryImport(Lib)] public static partial int clSetKernelArg(nint kernel, uint index, nuint size, void* value);
    [LibraryImport(Lib)] public static partial nint clCreateBuffer(nint context, ulong flags, nuint size, void* hostPointer, int* error);
    [LibraryImport(Lib)] public static partial int clEnqueueWriteBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* pointer, uint eventCount, nint* waitList, nint* evt);
    [LibraryImport(Lib)] public static partial int clEnqueueReadBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* pointer, uint eventCount, nint* waitList, nint* evt);
    [LibraryImport(Lib)] public static partial int clEnqueueFillBuffer(nint queue, nint buffer, void* pattern, nuint patternSize, nuint offset, nuint size, uint eventCount, nint* waitList, nint* evt);
    [LibraryImport(Lib)] public static partial int clEnqueueNDRangeKernel(nint queue, nint kernel, uint workDim, nuint* offset, nuint* global, nuint* local, uint eventCount, nint* waitList, nint* evt);
    [LibraryImport(Lib)] public static partial int clReleaseMemObject(nint buffer);
    [LibraryImport(Lib)] public static partial int clReleaseKernel(nint kernel);
    [LibraryImport(Lib)] public static partial int clReleaseProgram(nint program);
    [LibraryImport(Lib)] public static partial int clReleaseCommandQueue(nint queue);
    [LibraryImport(Lib)] public static partial int clReleaseContext(nint context);

    /// <summary>Throws a <see cref="GpuException"/> naming <paramref name="api"/> unless <paramref name="code"/> is success.</summary>
    public static void Check(int code, string api, string? detail = null)
    {
        if (code != Success) throw new GpuException(api, code, ErrorName(code), detail);
    }

    /// <summary>The <c>cl.h</c> name of an error code.</summary>
    public static string ErrorName(int code) => code switch
    {
        0 => "CL_SUCCESS",
        -1 => "CL_DEVICE_NOT_FOUND",
        -2 => "CL_DEVICE_NOT_AVAILABLE",
        -3 => "CL_COMPILER_NOT_AVAILABLE",
        -4 => "CL_MEM_OBJECT_ALLOCATION_FAILURE",
        -5 => "CL_OUT_OF_RESOURCES",
        -6 => "CL_OUT_OF_HOST_MEMORY",
        -11 => "CL_BUILD_PROGRAM_FAILURE",
        -30 => "CL_INVALID_VALUE",
        -32 => "CL_INVALID_PLATFORM",
        -33 => "CL_INVALID_DEVICE",
        -34 => "CL_INVALID_CONTEXT",
        -36 => "CL_INVALID_COMMAND_QUEUE",
        -38 => "CL_INVALID_MEM_OBJECT",
        -43 => "CL_INVALID_BUILD_OPTIONS",
        -44 => "CL_INVALID_PROGRAM",
        -45 => "CL_INVALID_PROGRAM_EXECUTABLE",
        -46 => "CL_INVALID_KERNEL_NAME",
        -48 => "CL_INVALID_KERNEL",
        -49 => "CL_INVALID_ARG_INDEX",
        -50 => "CL_INVALID_ARG_VALUE",
        -51 => "CL_INVALID_ARG_SIZE",
        -52 => "CL_INVALID_KERNEL_ARGS",
        -53 => "CL_INVALID_WORK_DIMENSION",
        -54 => "CL_INVALID_WORK_GROUP_SIZE",
        -55 => "CL_INVALID_WORK_ITEM_SIZE",
        -56 => "CL_INVALID_GLOBAL_OFFSET",
        -61 => "CL_INVALID_BUFFER_SIZE",
        -63 => "CL_INVALID_GLOBAL_WORK_SIZE",
        -1001 => "CL_PLATFORM_NOT_FOUND_KHR",
        _ => "CL_UNKNOWN_ERROR",
    };

    /// <summary>The platform IDs; empty when the loader has no vendor registered.</summary>
    public static nint[] Platforms()
    {
        uint count;
        int code = clGetPlatformIDs(0, null, &count);
        if (code == PlatformNotFoundKhr) return [];
        Check(code, "clGetPlatformIDs");
        var platforms = new nint[count];
        fixed (nint* p = platforms) Check(clGetPlatformIDs(count, p, null), "clGetPlatformIDs");
        return platforms;
    }

    /// <summary>The device IDs of one platform; empty when it has none.</summary>
    public static nint[] Devices(nint platform)
    {
        uint count;
        int code = clGetDeviceIDs(platform, DeviceTypeAll, 0, null, &count);
        if (code == DeviceNotFound) return [];
        Check(code, "clGetDeviceIDs");
        var devices = new nint[count];
        fixed (nint* p = devices) Check(clGetDeviceIDs(platform, DeviceTypeAll, count, p, null), "clGetDeviceIDs");
        return devices;
    }

    /// <summary>A string property of a platform or a device.</summary>
    public static string InfoString(nint handle, uint param, bool platform)
    {
        nuint size;
        string api = platform ? "clGetPlatformInfo" : "clGetDeviceInfo";
        Check(platform ? clGetPlatformInfo(handle, param, 0, null, &size) : clGetDeviceInfo(handle, param, 0, null, &size), api);
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes)
            Check(platform ? clGetPlatformInfo(handle, param, size, p, null) : clGetDeviceInfo(handle, param, size, p, null), api);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    /// <summary>A numeric device property; asks for its real size because some are <c>cl_uint</c> and some <c>size_t</c>.</summary>
    public static ulong DeviceNumber(nint device, uint param)
    {
        ulong value = 0;
        nuint size;
        Check(clGetDeviceInfo(device, param, 0, null, &size), "clGetDeviceInfo");
        Check(clGetDeviceInfo(device, param, Math.Min(size, sizeof(ulong)), &value, null), "clGetDeviceInfo");
        return value;
    }

    /// <summary>The compiler output of the last build of <paramref name="program"/> on <paramref name="device"/>.</summary>
    public static string BuildLog(nint program, nint device)
    {
        nuint size;
        if (clGetProgramBuildInfo(program, device, ProgramBuildLog, 0, null, &size) != Success) return "";
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) clGetProgramBuildInfo(program, device, ProgramBuildLog, size, p, null);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }
}
