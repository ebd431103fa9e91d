namespace NativeCnn.Backends.Gpu;

/// <summary>
/// The OpenCL backend (see <see cref="GpuBackend"/>), with one command queue per backend. Use <see cref="Device"/> to
/// find out whether the device is there before creating one.
/// </summary>
public sealed class OpenClBackend : GpuBackend
{
    /// <summary>Opens OpenCL device <paramref name="device"/> of platform <paramref name="platform"/>; the kernel program is built once per device and process.</summary>
    /// <param name="platform">The platform index, as <c>clGetPlatformIDs</c> lists them.</param>
    /// <param name="device">The device index within the platform.</param>
    /// <exception cref="GpuException">The driver, the device or the kernel build failed.</exception>
    /// <exception cref="DllNotFoundException">The driver library is not installed.</exception>
    public OpenClBackend(int platform = 0, int device = 0) : base(new OpenClRuntime(platform, device))
    {
    }
}
