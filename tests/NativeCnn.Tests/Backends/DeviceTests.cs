using System.Runtime.InteropServices;
using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Ilgpu;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;
using NativeCnn.Tests.Backends.Ilgpu;

namespace NativeCnn.Tests.Backends;

/// <summary>Device lookup through ILGPU, ids, availability reasons, the override variable and <c>Model.To</c>.</summary>
public sealed class DeviceTests
{
    [Fact]
    public void CpuIsAlwaysAvailableAndFirst()
    {
        Assert.True(Device.Cpu.IsAvailable);
        Assert.Null(Device.Cpu.UnavailableReason);
        Assert.Same(Device.Cpu, Device.Available[0]);
        using var backend = Device.Cpu.CreateBackend(cpuThreads: 1);
        Assert.IsType<CpuBackend>(backend);
    }

    [Theory]
    [InlineData("cpu", DeviceKind.Cpu, 0, 0, "cpu")]
    [InlineData("ilgpu-cpu", DeviceKind.IlgpuCpu, 0, 0, "ilgpu-cpu")]
    [InlineData("cuda", DeviceKind.Cuda, 0, 0, "cuda:0")]
    [InlineData("cuda:3", DeviceKind.Cuda, 0, 3, "cuda:3")]
    [InlineData("opencl", DeviceKind.OpenCL, 0, 0, "opencl:0:0")]
    [InlineData(" OpenCL:1:2", DeviceKind.OpenCL, 1, 2, "opencl:1:2")]
    public void ParsesIds(string id, DeviceKind kind, int platform, int index, string canonical)
    {
        var device = Device.Parse(id);
        Assert.Equal(kind, device.Kind);
        Assert.Equal(platform, device.Platform);
        Assert.Equal(index, device.Index);
        Assert.Equal(canonical, device.Id);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("opencl:1:2:3")]
    [InlineData("cpu:1")]
    public void RejectsBadIds(string id) => Assert.Throws<FormatException>(() => Device.Parse(id));

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
        Assert.Equal("cuda:0 (unavailable: no CUDA driver (libcuda.so.1 not found))", device.ToString());
        var error = Assert.Throws<InvalidOperationException>(() => device.CreateBackend());
        Assert.Equal("cuda:0 is unavailable: no CUDA driver (libcuda.so.1 not found).", error.Message);
        Assert.DoesNotContain(Device.Available, d => d.Kind == DeviceKind.Cuda);
        Assert.Equal("no CUDA driver (libcuda.so.1 not found)", Device.Parse("cuda:5").UnavailableReason);
    }

    [Fact]
    public void MissingOpenClIndicesAreUnavailableWithAReason()
    {
        var device = Device.OpenCL(platform: 99);
        Assert.False(device.IsAvailable);
        Assert.Matches("^(OpenCL platform 99 does not exist \\([0-9]+ present\\)|no OpenCL .*)$", device.UnavailableReason);
        Assert.Equal($"opencl:99:0 (unavailable: {device.UnavailableReason})", device.ToString());
        Assert.Throws<InvalidOperationException>(() => device.CreateBackend());
    }

    [PoclFact]
    public void PoclIsNamedButUnavailableForItsMissingGenericAddressSpace()
    {
        // PoCL on the CPU is the only OpenCL platform here; ILGPU needs the generic address space, which PoCL 3 lacks.
        var device = Device.OpenCL(0, 0);
        Assert.False(device.IsAvailable);
        Assert.Equal(DeviceKind.OpenCL, device.Kind);
        Assert.DoesNotContain("opencl:", device.Name); // the driver's name (PoCL: "pthread-…" or "cpu-…"), not the id
        Assert.False(string.IsNullOrWhiteSpace(device.Name));
        Assert.StartsWith($"ILGPU needs OpenCL 2.0+ with the generic address space; {device.Name} (", device.UnavailableReason);
        Assert.Matches("^OpenCL device 9 does not exist \\([0-9]+ on platform 0\\)$", Device.OpenCL(0, 9).UnavailableReason);
        Assert.DoesNotContain(Device.Available, d => d.Kind == DeviceKind.OpenCL);
    }

    [Fact]
    public void BestPicksOnlyGpus()
    {
        var best = Device.BestFor(requested: null);
        Assert.True(best.IsAvailable);
        var gpus = Device.Available.Where(d => d.IsGpu).ToList();
        Assert.All(gpus, d => Assert.Contains(d.Kind, new[] { DeviceKind.Cuda, DeviceKind.OpenCL }));
        if (gpus.Count == 0) Assert.Same(Device.Cpu, best);
        else Assert.Equal(gpus[0].Id, best.Id);
        Assert.NotEqual(DeviceKind.IlgpuCpu, best.Kind);
    }

    [Fact]
    public void TheOverrideVariableNamesTheDevice()
    {
        Assert.Equal("NATIVECNN_DEVICE", Device.OverrideVariable);
        Assert.Same(Device.Cpu, Device.BestFor("cpu"));
        Assert.Same(Device.IlgpuCpu, Device.BestFor(" ilgpu-cpu"));
        Assert.Same(Device.BestFor(""), Device.BestFor(null));
        var missing = Device.Parse("cuda:7");
        Assert.False(missing.IsAvailable);
        var error = Assert.Throws<InvalidOperationException>(() => Device.BestFor("cuda:7"));
        Assert.Equal($"NATIVECNN_DEVICE=cuda:7: {missing.UnavailableReason}.", error.Message);
        Assert.Throws<FormatException>(() => Device.BestFor("gpu0"));
    }

    [Fact]
    public void GpuIdsCreateIlgpuBackends()
    {
        using var backend = Device.Parse("ilgpu-cpu").CreateBackend();
        Assert.IsType<IlgpuBackend>(backend);
        foreach (var device in Device.Available.Where(d => d.Kind is DeviceKind.Cuda or DeviceKind.OpenCL))
        {
            using var gpu = device.CreateBackend();
            Assert.StartsWith($"{device.Id} (ILGPU ", Assert.IsType<IlgpuBackend>(gpu).Name);
        }
    }

    [Fact]
    public void ModelToOwnsItsBackend()
    {
        using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 32 });
        var plan = model.To(Device.Cpu, batch: 1);
        var output = new float[plan.Output.Shape.ElementCount];
        plan.Run(TestData.Uniform(1, (int)plan.Input.Shape.ElementCount, 0f, 255f), output);
        Assert.Equal(1f, output.Sum(), 1e-4f);
        plan.Dispose();
        using var input = new Tensor(2, 3);
        using var copy = new Tensor(2, 3);
        using var prepared = plan.Backend.Prepare(new CopyOp(), new OpBinding("copy", [new HostBuffer(input)], new HostBuffer(copy), []));
        Assert.Throws<ObjectDisposedException>(prepared.Run);
    }
}

/// <summary><see cref="Device.Best()"/> reads <see cref="Device.OverrideVariable"/>; alone, because the variable is process-wide.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class DeviceOverrideVariableTests
{
    [Fact]
    public void BestReadsTheVariable()
    {
        string? saved = Environment.GetEnvironmentVariable(Device.OverrideVariable);
        try
        {
            Environment.SetEnvironmentVariable(Device.OverrideVariable, "ilgpu-cpu");
            Assert.Same(Device.IlgpuCpu, Device.Best());
            Environment.SetEnvironmentVariable(Device.OverrideVariable, "cuda:7");
            Assert.StartsWith("NATIVECNN_DEVICE=cuda:7: ", Assert.Throws<InvalidOperationException>(Device.Best).Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Device.OverrideVariable, saved);
        }
    }
}

/// <summary>Tests that change process-wide environment variables run after the parallel ones, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "process environment";
}
