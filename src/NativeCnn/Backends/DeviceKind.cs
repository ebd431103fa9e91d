namespace NativeCnn.Backends;

/// <summary>The kind of backend a <see cref="Device"/> runs on.</summary>
public enum DeviceKind
{
    /// <summary>The SIMD CPU backend.</summary>
    Cpu,
    /// <summary>An OpenCL 2.0+ device through the ILGPU backend (ILGPU compiles its kernels to OpenCL C).</summary>
    OpenCL,
    /// <summary>An NVIDIA GPU through the ILGPU backend (ILGPU emits PTX; the driver, libcuda, runs it).</summary>
    Cuda,
    /// <summary>ILGPU's CPU accelerator (<c>ilgpu-cpu</c>): the ILGPU kernels with simulated GPU threads, for tests.</summary>
    IlgpuCpu,
}
