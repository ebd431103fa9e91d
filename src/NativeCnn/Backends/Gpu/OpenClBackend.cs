using NativeCnn.Tensors;

namespace NativeCnn.Backends.Gpu;

/// <summary>
/// The OpenCL backend: buffers live in device memory (<see cref="IDeviceBuffer.CopyFrom"/> and
/// <see cref="IDeviceBuffer.CopyTo"/> are the only host transfers and sync points), weights are uploaded once when an op
/// is prepared, and every op runs the shared kernels of <c>Kernels/nativecnn.cl.c</c>. Use <see cref="Device"/> to find
/// out whether the device is there before creating one.
/// </summary>
public sealed class OpenClBackend : IBackend
{
    private readonly GpuRuntime _runtime;

    /// <summary>Opens OpenCL device <paramref name="device"/> of platform <paramref name="platform"/>; the kernel program is built once per device and process.</summary>
    /// <param name="platform">The platform index, as <c>clGetPlatformIDs</c> lists them.</param>
    /// <param name="device">The device index within the platform.</param>
    /// <exception cref="GpuException">The driver, the device or the kernel build failed.</exception>
    /// <exception cref="DllNotFoundException">The driver library is not installed.</exception>
    public OpenClBackend(int platform = 0, int device = 0)
    {
        _runtime = new OpenClRuntime(platform, device);
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

    /// <summary>Releases the command queue; the shared context and program stay for the next backend on the device.</summary>
    public void Dispose() => _runtime.Dispose();
}
