using Microsoft.Win32.SafeHandles;

namespace NativeCnn.Backends.Gpu;

/// <summary>
/// An OpenCL object (context, queue, program, kernel or buffer), released by the <c>clRelease*</c> call of its kind,
/// which the factory that made it picked.
/// </summary>
internal sealed unsafe class ClHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private readonly delegate*<nint, int> _release;

    private ClHandle(nint handle, delegate*<nint, int> release) : base(true)
    {
        SetHandle(handle);
        _release = release;
    }

    public static ClHandle Context(nint context) => new(context, &OpenClApi.clReleaseContext);

    public static ClHandle Queue(nint queue) => new(queue, &OpenClApi.clReleaseCommandQueue);

    public static ClHandle Program(nint program) => new(program, &OpenClApi.clReleaseProgram);

    public static ClHandle Kernel(nint kernel) => new(kernel, &OpenClApi.clReleaseKernel);

    public static ClHandle Memory(nint memory) => new(memory, &OpenClApi.clReleaseMemObject);

    protected override bool ReleaseHandle() => _release(handle) == OpenClApi.Success;
}

/// <summary>A retained CUDA primary context; releasing it drops the retain count for its device.</summary>
internal sealed class CudaContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public CudaContextHandle(nint handle, int device) : base(true)
    {
        SetHandle(handle);
        Device = device;
    }

    public int Device { get; }

    /// <summary>Makes the context current on the calling thread; CUDA's current context is per thread.</summary>
    public void MakeCurrent() => CudaApi.Check(CudaApi.cuCtxSetCurrent(handle), "cuCtxSetCurrent");

    protected override bool ReleaseHandle() => CudaApi.cuDevicePrimaryCtxRelease_v2(Device) == CudaApi.Success;
}

/// <summary>
/// A CUDA object that belongs to a context (a module, device memory): freeing it needs that context current, so the
/// handle keeps the context alive until then.
/// </summary>
internal abstract class CudaContextBoundHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private readonly CudaContextHandle _context;

    protected CudaContextBoundHandle(nint handle, CudaContextHandle context) : base(true)
    {
        SetHandle(handle);
        _context = context;
        bool added = false;
        context.DangerousAddRef(ref added);
    }

    /// <summary>Frees the object; its context is current.</summary>
    protected abstract int Free();

    protected sealed override bool ReleaseHandle()
    {
        CudaApi.cuCtxSetCurrent(_context.DangerousGetHandle());
        bool ok = Free() == CudaApi.Success;
        _context.DangerousRelease();
        return ok;
    }
}

/// <summary>A loaded CUDA module, unloaded with <c>cuModuleUnload</c>.</summary>
internal sealed class CudaModuleHandle(nint module, CudaContextHandle context) : CudaContextBoundHandle(module, context)
{
    protected override int Free() => CudaApi.cuModuleUnload(handle);
}

/// <summary>Device memory from <c>cuMemAlloc</c>; the handle value is the <c>CUdeviceptr</c>.</summary>
internal sealed class CudaMemoryHandle(ulong pointer, CudaContextHandle context) : CudaContextBoundHandle((nint)pointer, context)
{
    public ulong Pointer => (ulong)handle;

    protected override int Free() => CudaApi.cuMemFree_v2(Pointer);
}
