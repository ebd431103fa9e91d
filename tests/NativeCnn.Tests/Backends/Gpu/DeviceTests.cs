using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Gpu;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Backends.Gpu;

/// <summary>Device lookup, ids, the override variable's parsing and <c>Model.To</c>.</summary>
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
    [InlineData("cpu", DeviceKind.Cpu, 0, 0)]
    [InlineData("cuda", DeviceKind.Cuda, 0, 0)]
    [InlineData("cuda:3", DeviceKind.Cuda, 0, 3)]
    [InlineData("opencl", DeviceKind.OpenCL, 0, 0)]
    [InlineData("OpenCL:1:2", DeviceKind.OpenCL, 1, 2)]
    public void ParsesIds(string id, DeviceKind kind, int platform, int index)
    {
        var device = Device.Parse(id);
        Assert.Equal(kind, device.Kind);
        Assert.Equal(platform, device.Platform);
        Assert.Equal(index, device.Index);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    [InlineData("opencl:1:2:3")]
    [InlineData("cpu:1")]
    public void RejectsBadIds(string id) => Assert.Throws<FormatException>(() => Device.Parse(id));

    [Fact]
    public void MissingIndicesAreUnavailableWithAReason()
    {
        var device = Device.OpenCL(platform: 99);
        Assert.False(device.IsAvailable);
        Assert.Matches("OpenCL platform 99 does not exist|no OpenCL", device.UnavailableReason);
        Assert.Contains("unavailable", device.ToString());
    }

    [Fact]
    public void BestNeverPicksAnOpenClCpuDevice()
    {
        var best = Device.Best();
        Assert.True(best.IsAvailable);
        if (best.Kind == DeviceKind.OpenCL) Assert.NotEqual(Device.OpenCL(best.Platform, best.Index).Name, Device.Cpu.Name);
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
