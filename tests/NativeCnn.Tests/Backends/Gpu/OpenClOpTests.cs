using NativeCnn.Backends;
using NativeCnn.Backends.Conformance;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Backends.Gpu;

/// <summary>Every op descriptor, fused variants included, on OpenCL against the CPU backend (the GpuCheck catalog).</summary>
[Collection(OpenClCollection.Name)]
public sealed class OpenClOpTests(OpenClFixture fixture)
{
    public static TheoryData<int, string> Cases()
    {
        var data = new TheoryData<int, string>();
        for (int i = 0; i < OpConformance.All.Count; i++) data.Add(i, OpConformance.All[i].Name);
        return data;
    }

    [GpuTheory]
    [MemberData(nameof(Cases))]
    public void MatchesCpu(int index, string name)
    {
        var test = OpConformance.All[index];
        var expected = test.Run(fixture.Cpu, index + 1);
        if (!fixture.OpenCl.Supports(test.Op, out var reason))
        {
            // Ops the GPU kernels do not cover yet are refused when prepared, naming the reason, never run wrongly.
            var e = Assert.Throws<BackendException>(() => test.Run(fixture.OpenCl, index + 1));
            Assert.Contains(reason!, e.Message);
            return;
        }
        var actual = test.Run(fixture.OpenCl, index + 1);
        Precision.AssertClose(expected, actual, OpConformance.Tolerance, scale: 1.0, what: name);
    }

    [GpuFact]
    public void CatalogCoversEveryDescriptor()
    {
        var covered = OpConformance.All.Select(c => c.Op.GetType()).ToHashSet();
        var descriptors = typeof(OpDescriptor).Assembly.GetTypes()
            // Training-only ops never reach an inference plan; the training tests check them against PyTorch.
            .Where(t => t.IsSubclassOf(typeof(OpDescriptor)) && !t.IsAbstract && !t.IsSubclassOf(typeof(TrainingOpDescriptor)));
        Assert.All(descriptors, d => Assert.Contains(d, covered));
    }

    [GpuFact]
    public void DeviceBuffersRoundTrip()
    {
        using var buffer = fixture.OpenCl.Allocate(TensorShape.Nhwc(1, 3, 5, 7));
        var zeros = new float[105];
        buffer.CopyTo(zeros);
        Assert.All(zeros, v => Assert.Equal(0f, v));
        var data = TestData.Uniform(5, 105);
        buffer.CopyFrom(data);
        var back = new float[105];
        buffer.CopyTo(back);
        Assert.Equal(data, back);
        Assert.Throws<ArgumentException>(() => buffer.CopyFrom(new float[3]));
    }

    [GpuFact]
    public void ViewsShareDeviceMemoryAndFreeNothing()
    {
        using var buffer = fixture.OpenCl.Allocate(TensorShape.Nhwc(2, 3, 5, 7));
        var data = TestData.Uniform(6, 24);
        using (var view = buffer.View(TensorShape.Nhwc(1, 2, 3, 4)))
        {
            Assert.Equal(TensorShape.Nhwc(1, 2, 3, 4), view.Shape);
            view.CopyFrom(data);
        }
        var back = new float[210];
        buffer.CopyTo(back); // the buffer outlives its disposed view
        Assert.Equal(data, back[..24]);
        Assert.All(back[24..], v => Assert.Equal(0f, v));
        // A kernel writing through a view writes the buffer: copy the view into a second view of another buffer.
        using var other = fixture.OpenCl.Allocate(new TensorShape(30));
        using var source = buffer.View(new TensorShape(24));
        using var target = other.View(new TensorShape(24));
        using var copy = fixture.OpenCl.Prepare(new CopyOp(), new OpBinding("copy", [source], target, []));
        copy.Run();
        var copied = new float[30];
        other.CopyTo(copied);
        Assert.Equal(data, copied[..24]);
        Assert.Throws<ArgumentException>(() => buffer.View(new TensorShape(211)));
    }

    [GpuFact]
    public void RejectsForeignBuffersAndFusedSoftmax()
    {
        Assert.False(fixture.OpenCl.Supports(new Conv2DOp(1, 1, 1, 1, 1, 1, default, 4, false, ActivationFunction.Softmax), out var reason));
        Assert.Contains("softmax", reason);
        using var cpuBuffer = fixture.Cpu.Allocate(new TensorShape(2, 3));
        using var gpuBuffer = fixture.OpenCl.Allocate(new TensorShape(2, 3));
        var error = Assert.Throws<BackendException>(() =>
            fixture.OpenCl.Prepare(new CopyOp(), new OpBinding("copy", [cpuBuffer], gpuBuffer, [])));
        Assert.Contains("not a buffer of opencl", error.Message);
    }
}
