namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>GpuCheck's ILGPU flags, run as users run the tool: --conformance on ilgpu-cpu, and --emit-ptx without a GPU.</summary>
public sealed class GpuCheckIlgpuTests
{
    [Fact]
    public void ConformanceOnIlgpuCpuPassesAndCounts()
    {
        var result = CommandLineTool.GpuCheck.Run(["--devices", "ilgpu-cpu", "--conformance", "--ops", "conv2d 2x9x7,add,activation softmax 2x4"], timeout: TimeSpan.FromSeconds(120));
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Contains("4 passed, 0 failed", result.Stdout);
        Assert.DoesNotContain("images/s", result.Stdout);
    }

    [Fact]
    public void EmitPtxWritesOneFilePerSpecialization()
    {
        string directory = Directory.CreateTempSubdirectory("nativecnn-ptx").FullName;
        try
        {
            var result = CommandLineTool.GpuCheck.Run(["--emit-ptx", directory, "--cuda-arch", "sm_90"], timeout: TimeSpan.FromSeconds(120));
            Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
            var files = Directory.GetFiles(directory, "*.sm_90.ptx");
            Assert.Equal(NativeCnn.Backends.Ilgpu.IlgpuPtx.KernelCount, files.Length);
            Assert.All(files, f => Assert.Contains(".entry", File.ReadAllText(f)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void AnUnknownArchitectureIsAUsageError()
    {
        var result = CommandLineTool.GpuCheck.Run(["--emit-ptx", Path.GetTempPath(), "--cuda-arch", "sm_12"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("sm_12", result.Stderr);
    }
}
