using Microsoft.Win32.SafeHandles;

namespace NativeCnn.Backends.Gpu;

/// <summary>An OpenCL context, released with <c>clReleaseContext</c>.</summary>
internal sealed class ClContextHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    public ClContextHandle(nint handle) : this() => SetHandle(handle);
    protected override bool ReleaseHandle() => OpenClApi.clReleaseContext(handle) == OpenClApi.Success;
}

/// <summary>An OpenCL command queue, released with <c>clReleaseCommandQueue</c>.</summary>
internal sealed class ClQueueHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    public ClQueueHandle(nint handle) : this() => SetHandle(handle);
    protected override bool ReleaseHandle() => OpenClApi.clReleaseCommandQueue(handle) == OpenClApi.Success;
}

/// <summary>An OpenCL program, released with <c>clReleaseProgram</c>.</summary>
internal sealed class ClProgramHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    public ClProgramHandle(nint handle) : this() => SetHandle(handle);
    protected override bool ReleaseHandle() => OpenClApi.clReleaseProgram(handle) == OpenClApi.Success;
}

/// <summary>An OpenCL kernel object, released with <c>clReleaseKernel</c>.</summary>
internal sealed class ClKernelHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    public ClKernelHandle(nint handle) : this() => SetHandle(handle);
    protected override bool ReleaseHandle() => OpenClApi.clReleaseKernel(handle) == OpenClApi.Success;
}

/// <summary>An OpenCL buffer, released with <c>clReleaseMemObject</c>.</summary>
internal sealed class ClMemHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    public ClMemHandle(nint handle) : this() => SetHandle(handle);
    protected override bool ReleaseHandle() => OpenClApi.clReleaseMemObject(handle) == OpenClApi.Success;
}

/// <summary>A retained CUDA primary context; releasing it drops the retain count for its device.</summary>
internal sealed class CudaContextHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    public CudaContextHandle(nint handle, int device) : this()
    {
        SetHandle(handle);
        Device = device;
    }

    public int Device { get; }

    /// <summary>Makes the context current on the calling thread; CUDA's current context is per thread.</summary>
    public void MakeCurrent() => CudaApi.Check(CudaApi.cuCtxSetCurrent(handle), "cuCtxSetCurrent");

    protected override bool ReleaseHandle() => CudaApi.cuDevicePrimaryCtxRelease_v2(Device) == CudaApi.Success;
}

/// <summary>A loaded CUDA module; unloading needs its context current, so the handle keeps the context alive.</summary>
internal sealed class CudaModuleHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    private readonly CudaContextHandle? _context;

    public CudaModuleHandle(nint handle, CudaContextHandle context) : this()
    {
        SetHandle(handle);
        _context = context;
        bool added = false;
        context.DangerousAddRef(ref added);
    }

    protected override bool ReleaseHandle()
    {
        CudaApi.cuCtxSetCurrent(_context!.DangerousGetHandle());
        bool ok = CudaApi.cuModuleUnload(handle) == CudaApi.Success;
        _context.DangerousRelease();
        return ok;
    }
}

/// <summary>Device memory from <c>cuMemAlloc</c>; the handle value is the <c>CUdeviceptr</c>.</summary>
internal sealed class CudaMemoryHandle() : SafeHandleZeroOrMinusOneIsInvalid(true)
{
    private readonly CudaContextHandle? _context;

    public CudaMemoryHandle(ulong pointer, CudaContextHandle context) : this()
    {
        SetHandle((nint)pointer);
        _context = context;
        bool added = false;
        context.DangerousAddRef(ref added);
    }

    public ulong Pointer => (ulong)handle;

    protected override bool ReleaseHandle()
    {
        CudaApi.cuCtxSetCurrent(_context!.DangerousGetHandle());
        bool ok = CudaApi.cuMemFree_v2((ulong)handle) == CudaApi.Success;
        _context.DangerousRelease();
        return ok;
    }
}
