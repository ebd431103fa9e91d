using NativeCnn.Backends;
using NativeCnn.Backends.Ilgpu;
using NativeCnn.Tensors;
using AcceleratorType = ILGPU.Runtime.AcceleratorType;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>The backend's contract: device lookup, buffers, refusals with reasons, the threading rule, and Dispose.</summary>
[Collection(IlgpuCollection.Name)]
public sealed class IlgpuBackendTests(IlgpuFixture fixture)
{
    [Fact]
    public void IlgpuCpuIsListedButNeverBest()
    {
        Assert.Same(Device.IlgpuCpu, Device.Parse("ilgpu-cpu"));
        Assert.Equal("ilgpu-cpu", Device.IlgpuCpu.Id);
        Assert.Equal(DeviceKind.IlgpuCpu, Device.IlgpuCpu.Kind);
        Assert.True(Device.IlgpuCpu.IsAvailable);
        Assert.Contains(Device.IlgpuCpu, Device.Available);
        Assert.NotEqual(DeviceKind.IlgpuCpu, Device.Best().Kind);
        using var backend = Device.IlgpuCpu.CreateBackend();
        Assert.IsType<IlgpuBackend>(backend);
        Assert.Equal(AcceleratorType.CPU, ((IlgpuBackend)backend).AcceleratorType);
        Assert.StartsWith("ilgpu-cpu", backend.Name);
    }

    [Fact]
    public void GpuDevicesReportWhyTheyAreMissing()
    {
        // No GPU here: ILGPU's CUDA and OpenCL lookups return a reason and never throw (PoCL lacks the generic address space).
        foreach (var device in new[] { Device.Cuda(0), Device.Cuda(7), Device.OpenCL(0, 0), Device.OpenCL(5, 0) })
        {
            if (device.IsAvailable) continue;
            Assert.False(string.IsNullOrWhiteSpace(device.UnavailableReason));
            Assert.Contains("unavailable", Assert.Throws<InvalidOperationException>(() => IlgpuBackend.Create(device)).Message);
        }
        Assert.Throws<InvalidOperationException>(() => IlgpuBackend.Create(Device.Cpu));
    }

    [Fact]
    public void CoversEveryInferenceDescriptor()
    {
        // Every descriptor an inference plan emits, with an element-wise activation where it takes one.
        var descriptors = typeof(OpDescriptor).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(OpDescriptor)) && !t.IsAbstract && !t.IsSubclassOf(typeof(TrainingOpDescriptor)));
        var catalog = NativeCnn.Backends.Conformance.OpConformance.All;
        Assert.All(descriptors, d => Assert.Contains(catalog, c => c.Op.GetType() == d && fixture.Ilgpu.Supports(c.Op, out _)));
    }

    [Fact]
    public void BuffersRoundTripAndViewsShareMemory()
    {
        using var buffer = fixture.Ilgpu.Allocate(TensorShape.Nhwc(1, 3, 5, 7));
        var zeros = new float[105];
        buffer.CopyTo(zeros);
        Assert.All(zeros, v => Assert.Equal(0f, v));
        var data = TestData.Uniform(5, 105);
        buffer.CopyFrom(data);
        var back = new float[105];
        buffer.CopyTo(back);
        Assert.Equal(data, back);
        using var view = buffer.View(new TensorShape(10));
        var head = new float[10];
        view.CopyTo(head);
        Assert.Equal(data[..10], head);
        Assert.Throws<ArgumentException>(() => buffer.CopyFrom(new float[3]));
        Assert.Throws<ArgumentException>(() => buffer.View(new TensorShape(106)));
    }

    [Fact]
    public void KernelsWriteThroughViewsAndDisposedViewsFreeNothing()
    {
        using var buffer = fixture.Ilgpu.Allocate(TensorShape.Nhwc(2, 3, 5, 7));
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
        // A kernel writing through a view writes the buffer: copy one view into a view of another buffer.
        using var other = fixture.Ilgpu.Allocate(new TensorShape(30));
        using var source = buffer.View(new TensorShape(24));
        using var target = other.View(new TensorShape(24));
        using var copy = fixture.Ilgpu.Prepare(new CopyOp(), new OpBinding("copy", [source], target, []));
        copy.Run();
        var copied = new float[30];
        other.CopyTo(copied);
        Assert.Equal(data, copied[..24]);
        Assert.All(copied[24..], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void RefusesWithReasons()
    {
        Assert.False(fixture.Ilgpu.Supports(new Conv2DTransposeOp(3, 3, 2, 2, 0, 0, 10, 14, 17, true, ActivationFunction.Softmax), out var reason));
        Assert.Contains("Conv2DTranspose", reason);
        Assert.False(fixture.Ilgpu.Supports(new Pooling2DOp(PoolingMode.Average, 3, 3, 2, 2, new Padding2D(1, 1, 1, 1), PaddedCellsAreZeros: true), out reason));
        Assert.Contains("max pooling only", reason);
        Assert.False(fixture.Ilgpu.Supports(new Conv2DOp(1, 1, 1, 1, 1, 1, Padding2D.None, 4, true, ActivationFunction.Softmax), out reason));
        Assert.Contains("softmax", reason);
        Assert.False(fixture.Ilgpu.Supports(new BatchNormalizationOp(1e-3, 0.99, true, true), out reason));
        Assert.Contains("training", reason);
        // Wrong shapes name the layer, the expectation and what came.
        using var input = fixture.Ilgpu.Allocate(TensorShape.Nhwc(1, 4, 4, 3));
        using var output = fixture.Ilgpu.Allocate(TensorShape.Nhwc(1, 4, 4, 5));
        using var kernel = new Tensor(new TensorShape(3, 3, 3, 4));
        var e = Assert.Throws<BackendException>(() => fixture.Ilgpu.Prepare(new Conv2DOp(3, 3, 1, 1, 1, 1, new Padding2D(1, 1, 1, 1), 4, false, ActivationFunction.Relu),
            new OpBinding("block1_conv", [input], output, [kernel])));
        Assert.Contains("block1_conv", e.Message);
        Assert.Contains("(1, 4, 4, 4)", e.Message);
        // A buffer of another backend is refused, not downcast.
        using var host = new HostBuffer(TensorShape.Nhwc(1, 4, 4, 3));
        Assert.Throws<BackendException>(() => fixture.Ilgpu.Prepare(new CopyOp(), new OpBinding("copy", [host], input, [])));
    }

    [Fact]
    public void ThreadsSharingABackendQueueWholeOps()
    {
        // The documented contract: a backend and its prepared ops may be shared; each Run queues under the backend's lock.
        const int threads = 4;
        var shape = new TensorShape(3, 40);
        var results = new float[threads][];
        var expected = new float[threads][];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            using var input = fixture.Ilgpu.Allocate(shape);
            using var output = fixture.Ilgpu.Allocate(shape);
            var data = TestData.Uniform(100 + t, (int)shape.ElementCount);
            input.CopyFrom(data);
            using var op = fixture.Ilgpu.Prepare(new ActivationOp(ActivationFunction.Softmax), new OpBinding($"softmax{t}", [input], output, []));
            for (int run = 0; run < 3; run++) op.Run();
            results[t] = new float[shape.ElementCount];
            output.CopyTo(results[t]);
            expected[t] = Softmax(data, 40);
        });
        for (int t = 0; t < threads; t++) Precision.AssertClose(expected[t], results[t], 1e-5, 1.0, $"thread {t}");
    }

    [Fact]
    public void DisposeReleasesTheAcceleratorAndBuffers()
    {
        var backend = IlgpuBackend.Create(Device.IlgpuCpu);
        var buffer = backend.Allocate(new TensorShape(8));
        var output = backend.Allocate(new TensorShape(8));
        var op = backend.Prepare(new ActivationOp(ActivationFunction.Relu), new OpBinding("relu", [buffer], output, []));
        op.Run();
        Assert.Equal(1, backend.LoadedKernelCount);
        op.Dispose();
        op.Dispose();
        Assert.Throws<ObjectDisposedException>(op.Run);
        buffer.Dispose();
        output.Dispose();
        backend.Dispose();
        backend.Dispose();
        Assert.Throws<ObjectDisposedException>(() => backend.Allocate(new TensorShape(1)));
    }

    [Fact]
    public void LoadsEachSpecializationOnce()
    {
        using var backend = IlgpuBackend.Create(Device.IlgpuCpu);
        using var a = backend.Allocate(new TensorShape(2, 5));
        using var b = backend.Allocate(new TensorShape(2, 5));
        using var swish1 = backend.Prepare(new ActivationOp(ActivationFunction.Swish), new OpBinding("s1", [a], b, []));
        using var swish2 = backend.Prepare(new ActivationOp(ActivationFunction.Swish), new OpBinding("s2", [b], a, []));
        Assert.Equal(1, backend.LoadedKernelCount);
        using var relu6 = backend.Prepare(new ActivationOp(ActivationFunction.Relu6), new OpBinding("r", [a], b, []));
        using var relu8 = backend.Prepare(new ActivationOp(new ActivationFunction(ActivationKind.Relu, 8f)), new OpBinding("r8", [a], b, []));
        Assert.Equal(2, backend.LoadedKernelCount);
    }

    private static float[] Softmax(float[] x, int length)
    {
        var y = new float[x.Length];
        for (int r = 0; r < x.Length / length; r++)
        {
            double top = x.Skip(r * length).Take(length).Max(), sum = 0;
            for (int j = 0; j < length; j++) sum += Math.Exp(x[r * length + j] - top);
            for (int j = 0; j < length; j++) y[r * length + j] = (float)(Math.Exp(x[r * length + j] - top) / sum);
        }
        return y;
    }
}
