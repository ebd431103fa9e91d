using System.Diagnostics;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace NativeCnn.Backends.Ilgpu;

/// <summary>One kernel specialization compiled to PTX.</summary>
/// <param name="Name">The specialization, e.g. <c>conv2d.gpu_tile.swish</c>.</param>
/// <param name="Architecture">The target, e.g. <c>sm_90</c>.</param>
/// <param name="Assembly">The PTX text.</param>
/// <param name="Elapsed">How long ILGPU took to compile it.</param>
public sealed record IlgpuPtxKernel(string Name, string Architecture, string Assembly, TimeSpan Elapsed);

/// <summary>Compiles the ILGPU backend's kernels to PTX without a GPU or CUDA driver (ILGPU's PTX backend is managed code).</summary>
public static class IlgpuPtx
{
    /// <summary>The architectures <see cref="Compile"/> takes: <c>sm_80</c> (A100), <c>sm_86</c>, <c>sm_89</c>, <c>sm_90</c> (H100/H200).</summary>
    public static IReadOnlyList<string> Architectures { get; } = ["sm_80", "sm_86", "sm_89", "sm_90"];

    /// <summary>How many kernel specializations the backend can load.</summary>
    public static int KernelCount => IlgpuKernelCatalog.All.Count;

    /// <summary>
    /// Compiles every kernel specialization for <paramref name="architecture"/>, with the PTX ISA that architecture needs
    /// (7.0 for sm_80, 7.8 for sm_89/sm_90). ILGPU writes the lowest <c>.target</c> the kernel's features need (sm_80
    /// here), which the driver JIT compiles for newer GPUs.
    /// </summary>
    /// <exception cref="ArgumentException">The architecture is not one of <see cref="Architectures"/>.</exception>
    public static IReadOnlyList<IlgpuPtxKernel> Compile(string architecture)
    {
        var (arch, isa) = architecture switch
        {
            "sm_80" => (CudaArchitecture.SM_80, CudaInstructionSet.ISA_70),
            "sm_86" => (CudaArchitecture.SM_86, CudaInstructionSet.ISA_71),
            "sm_89" => (CudaArchitecture.SM_89, CudaInstructionSet.ISA_78),
            "sm_90" => (CudaArchitecture.SM_90, CudaInstructionSet.ISA_78),
            _ => throw new ArgumentException($"'{architecture}' is not a supported CUDA architecture ({string.Join(", ", Architectures)}).", nameof(architecture)),
        };
        // A CPU-only context: the PTX backend needs a context, not a driver.
        using var context = IlgpuDevices.CreateContext(DeviceKind.IlgpuCpu);
        using var backend = new PTXBackend(context, arch, isa, nvvmAPI: null!);
        var kernels = new List<IlgpuPtxKernel>();
        foreach (var (name, method) in IlgpuKernelCatalog.All)
        {
            var clock = Stopwatch.StartNew();
            var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), KernelSpecialization.Empty);
            kernels.Add(new IlgpuPtxKernel(name, architecture, compiled.PTXAssembly, clock.Elapsed));
        }
        return kernels;
    }
}
