namespace NativeCnn.Backends.Gpu;

/// <summary>
/// The CUDA backend (see <see cref="GpuBackend"/>), on the device's primary context. Use <see cref="Device"/> to find
/// out whether the device is there before creating one.
/// </summary>
public sealed class CudaBackend : GpuBackend
{
    /// <summary>Opens CUDA device <paramref name="ordinal"/>; the kernels are compiled by NVRTC once per device and process.</summary>
    /// <param name="ordinal">The CUDA device ordinal.</param>
    /// <exception cref="GpuException">The driver, the device or the kernel build failed.</exception>
    /// <exception cref="DllNotFoundException">The driver library is not installed.</exception>
    public CudaBackend(int ordinal = 0) : base(new CudaRuntime(ordinal))
    {
    }
}
