using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using NativeCnn.Backends;
using NativeCnn.Backends.Gpu;

namespace NativeCnn.Tests.Backends.Gpu;

/// <summary>
/// What can be checked of CUDA without a GPU: the clean "unavailable" path, and the CUDA dialect of the shared kernel
/// source compiled to PTX by clang (the OpenCL dialect is syntax-checked the same way).
/// </summary>
public sealed partial class CudaTests
{
    private static readonly string[] s_kernels =
    [
        "conv2d", "depthwise_conv2d", "channel_affine", "activation", "softmax_rows", "add", "multiply", "copy",
        "zero_padding2d", "pooling2d", "global_pooling2d", "dense",
    ];

    [Fact]
    public void CudaIsUnavailableWithAReasonWhenTheDriverIsMissing()
    {
        var device = Device.Cuda();
        if (NativeLibrary.TryLoad("libcuda.so.1", out var handle))
        {
            NativeLibrary.Free(handle);
            Assert.True(device.IsAvailable || !string.IsNullOrEmpty(device.UnavailableReason));
            return;
        }
        Assert.False(device.IsAvailable);
        Assert.Equal("no CUDA driver (libcuda.so.1 not found)", device.UnavailableReason);
        var error = Assert.Throws<InvalidOperationException>(() => device.CreateBackend());
        Assert.Contains("libcuda.so.1 not found", error.Message);
        Assert.DoesNotContain(Device.Available, d => d.Kind == DeviceKind.Cuda);
    }

    [Fact]
    public void EveryKernelIsInTheSharedSource()
    {
        foreach (var kernel in s_kernels) Assert.Contains($"KERNEL void {kernel}(", KernelSource.Body);
        Assert.Equal(s_kernels.Length, KernelCount().Matches(KernelSource.Body).Count);
    }

    [GpuFact]
    public void CudaDialectCompilesToPtx()
    {
        string directory = Directory.CreateTempSubdirectory("nativecnn-cuda").FullName;
        try
        {
            string source = Path.Combine(directory, "nativecnn.cu"), ptx = Path.Combine(directory, "nativecnn.ptx");
            File.WriteAllText(source, KernelSource.Cuda);
            string shim = Path.Combine(AppContext.BaseDirectory, "Backends", "Gpu", "clang_cuda_shim.h");
            Clang($"-x cuda --cuda-device-only --cuda-gpu-arch=sm_80 -nocudainc -nocudalib -include \"{shim}\" -O3 -S \"{source}\" -o \"{ptx}\"");
            string text = File.ReadAllText(ptx);
            foreach (var kernel in s_kernels) Assert.Contains($".entry {kernel}(", text);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [GpuFact]
    public void OpenClDialectPassesClangSyntaxCheck()
    {
        string directory = Directory.CreateTempSubdirectory("nativecnn-cl").FullName;
        try
        {
            string source = Path.Combine(directory, "nativecnn.cl");
            File.WriteAllText(source, KernelSource.OpenCl);
            Clang($"-x cl -cl-std=CL1.2 -Xclang -finclude-default-header -fsyntax-only \"{source}\"");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// The CUDA backend's host code (NVRTC flow, primary context, allocation, copies, argument packing, launch geometry)
    /// against <c>dryrun_cuda.c</c>, a fake driver that computes add, copy and multiply on the host, in a child GpuCheck
    /// process because the driver library is loaded once per process.
    /// </summary>
    [GpuFact]
    public void CudaHostCodeRunsOnADryRunDriver()
    {
        string directory = Directory.CreateTempSubdirectory("nativecnn-dryrun").FullName;
        try
        {
            string source = Path.Combine(AppContext.BaseDirectory, "Backends", "Gpu", "dryrun_cuda.c");
            Clang($"-shared -fPIC -O1 -o \"{Path.Combine(directory, "libcuda.so.1")}\" \"{source}\"");
            File.Copy(Path.Combine(directory, "libcuda.so.1"), Path.Combine(directory, "libnvrtc.so.12"));
            var (exit, stdout, stderr) = CommandLineTool.GpuCheck.Run(["--devices", "cuda:0", "--no-benchmark", "--ops", "add ,copy,multiply"],
                new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = directory }, TimeSpan.FromSeconds(60));
            string output = stdout + stderr;
            Assert.True(exit == 0, $"GpuCheck exited with {exit}:\n{output}");
            Assert.Contains("device cuda:0 (DryRun GPU)", output);
            Assert.Contains("5 passed, 0 failed", output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Clang(string arguments)
    {
        string? clang = new[] { "clang", "clang-15", "clang-16", "clang-14" }.FirstOrDefault(OnPath);
        if (clang is null)
            Assert.Fail($"clang is not installed; it checks the CUDA dialect without a GPU. Install it with '{GpuTestEnvironment.InstallCommand}' " +
                        $"or set {GpuTestEnvironment.SkipVariable}=1.");
        using var process = Process.Start(new ProcessStartInfo(clang, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        string errors = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{clang} {arguments} failed ({process.ExitCode}):\n{errors}");
    }

    private static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, name)));

    [GeneratedRegex(@"\bKERNEL void \w+\(")]
    private static partial Regex KernelCount();
}
