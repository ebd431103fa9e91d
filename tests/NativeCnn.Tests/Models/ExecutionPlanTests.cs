using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Models;

public sealed class ExecutionPlanTests
{
    [Fact]
    public void SteadyStateRunAllocatesNothing()
    {
        using var model = ModelGraphTests.TinyModel();
        // One thread: all work happens on this thread, so its allocation counter sees every byte.
        using var backend = new CpuBackend(threadCount: 1);
        using var plan = model.CreatePlan(backend, batch: 2);
        plan.Input.CopyFrom(TestData.Uniform(11, 2 * 32 * 32 * 3));
        plan.Run();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) plan.Run();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ABatchTooLargeForMemoryIsRefusedBeforeAnythingIsAllocated(int threads)
    {
        using var model = ModelGraphTests.TinyModel();
        using var backend = new CpuBackend(threadCount: threads);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        // 2^24 images of 32x32x3: 2^24 * 3072 input values, far past a tensor's and this machine's limits; one thread
        // runs it in passes (a batch-sized input and output beside small per-pass steps), two in image threads.
        var error = Assert.Throws<LayerException>(() => model.CreatePlan(backend, batch: 1 << 24));
        Assert.Contains("input_layer", error.Message);
        Assert.Contains("51539607552 elements", error.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16 << 20, "the refused plan allocated managed memory");
    }

    [Fact]
    public void PlanMatchesPredictAndKeepsEveryActivation()
    {
        using var model = ModelGraphTests.TinyModel();
        using var input = Tensor.FromArray(TestData.Uniform(12, 3 * 32 * 32 * 3), TensorShape.Nhwc(3, 32, 32, 3));
        using var predicted = model.Predict(input);

        using var backend = new CpuBackend(threadCount: 2);
        using var plan = model.CreatePlan(backend, batch: 3, fuse: false);
        var output = new float[30];
        plan.Run(input.Span, output);
        Precision.AssertClose(predicted.Span, output, 1e-5, 1.0, "layer-by-layer plan vs Predict (fused)");
        Assert.Equal(TensorShape.Nhwc(3, 16, 16, 16), plan.GetActivation("conv_bn").Shape);
        Assert.Equal(input.ToArray(), TestData.ReadBack(plan.GetActivation("input_layer")));
        for (int n = 0; n < 3; n++) Assert.Equal(1.0, output.AsSpan(n * 10, 10).ToArray().Sum(), 5);
    }

    [Fact]
    public void ProfiledRunTimesEveryStepAndCountsMultiplyAccumulates()
    {
        using var model = ModelGraphTests.TinyModel();
        using var backend = new CpuBackend(threadCount: 1);
        using var plan = model.CreatePlan(backend, fuse: false);
        plan.RunProfiled();
        Assert.Equal(5, plan.Steps.Count);
        Assert.All(plan.Steps, s => Assert.True(s.LastMilliseconds >= 0));
        Assert.Equal(16L * 16 * 16 * 27, plan.Steps[0].MultiplyAccumulates);
        Assert.IsType<Conv2DOp>(plan.Steps[0].Op);
    }

    [Fact]
    public void FusedPlanFoldsBatchNormalizationAndActivationIntoTheConvolution()
    {
        using var model = ModelGraphTests.TinyModel();
        using var input = Tensor.FromArray(TestData.Uniform(13, 2 * 32 * 32 * 3), TensorShape.Nhwc(2, 32, 32, 3));
        using var backend = new CpuBackend(threadCount: 2);
        using var layered = model.CreatePlan(backend, batch: 2, fuse: false);
        using var fused = model.CreatePlan(backend, batch: 2);
        var expected = new float[20];
        var actual = new float[20];
        layered.Run(input.Span, expected);
        fused.Run(input.Span, actual);
        Precision.AssertClose(expected, actual, 1e-5, 1.0, "fused vs layer by layer");

        Assert.True(fused.IsFused);
        var conv = fused.Steps[0];
        Assert.Equal(["conv", "conv_bn", "conv_swish"], conv.Layers.Select(n => n.Name));
        Assert.Equal(layered.Steps[0].MultiplyAccumulates + layered.Steps[1].MultiplyAccumulates, conv.MultiplyAccumulates);
        Assert.Equal(layered.Steps.Count - 2, fused.Steps.Count);
        var e = Assert.Throws<InvalidOperationException>(() => fused.GetActivation("conv_bn"));
        Assert.Contains("runs fused into 'conv_swish'", e.Message);
    }

    [Fact]
    public void UnsupportedOpFailsAtPlanTimeNamingTheLayer()
    {
        using var model = ModelGraphTests.TinyModel();
        using var backend = new RefusingBackend();
        var e = Assert.Throws<BackendException>(() => model.CreatePlan(backend));
        Assert.Contains("conv", e.Message);
        Assert.Contains("no Conv2DOp here", e.Message);
    }

    /// <summary>A backend that supports nothing, to check that the planner reports it instead of falling back.</summary>
    private sealed class RefusingBackend : IBackend
    {
        public string Name => "refusing";
        public bool Supports(OpDescriptor op, out string? reason)
        {
            reason = $"no {op.GetType().Name} here";
            return false;
        }
        public IDeviceBuffer Allocate(TensorShape shape) => new HostBuffer(shape);
        public IPreparedOp Prepare(OpDescriptor op, OpBinding binding) => throw new InvalidOperationException("not reached");
        public void Synchronize() { }
        public void Dispose() { }
    }
}
