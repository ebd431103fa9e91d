namespace NativeCnn.Backends;

/// <summary>The kind of backend a <see cref="Device"/> runs on.</summary>
public enum DeviceKind
{
    /// <summary>The SIMD CPU backend.</summary>
    Cpu,
    /// <summary>An OpenCL device (a GPU, or a CPU through PoCL).</summary>
    OpenCL,
    /// <summary>An NVIDIA GPU through the CUDA driver API and NVRTC.</summary>
    Cuda,
    /// <summary>ILGPU's CPU accelerator (<c>ilgpu-cpu</c>): the ILGPU kernels with simulated GPU threads, for tests.</summary>
    IlgpuCpu,
}
