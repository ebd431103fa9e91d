namespace NativeCnn.Backends.Gpu;

/// <summary>
/// What the CUDA and OpenCL backends share: buffers live in device memory (<see cref="IDeviceBuffer.CopyFrom"/> and
/// <see cref="IDeviceBuffer.CopyTo"/> are the only host transfers and sync points), weights are uploaded once when an op
/// is prepared, and every op runs the shared kernels of <c>Kernels/nativecnn.cl.c</c> through the driver's runtime.
/// Only <see cref="CudaBackend"/> and <see cref="OpenClBackend"/> derive from it.
/// </summary>
public abstract class GpuBackend : IBackend
{
    private readonly GpuRuntime _runtime;

    private protected GpuBackend(GpuRuntime runtime)
    {
        _runtime = runtime;
    }

    /// <inheritdoc/>
    public string Name => _runtime.Name;

    /// <inheritdoc/>
    public bool Supports(OpDescriptor op, out string? reason) => GpuOps.Supports(op, out reason);

    /// <inheritdoc/>
    public IDeviceBuffer Allocate(TensorShape shape) => _runtime.Allocate(shape);

    /// <inheritdoc/>
    public IPreparedOp Prepare(OpDescriptor op, OpBinding binding) => GpuOps.Prepare(_runtime, op, binding);

    /// <inheritdoc/>
    public void Synchronize() => _runtime.Synchronize();

    /// <summary>Releases what this backend holds; the shared context and compiled kernels stay for the next backend on the device.</summary>
    public void Dispose() => _runtime.Dispose();
}
