using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Tests.Layers;

namespace NativeCnn.Tests.Models;

/// <summary>
/// The planner schedules a batch as the backend's <see cref="IExecutionStrategy"/> says: a backend without one gets one
/// whole-batch plan, the CPU's strategy gives image threads and passes, and a strategy of the test's own is obeyed (its
/// backends, its concurrent run) and refused when its answer does not divide the batch.
/// </summary>
public sealed class ExecutionStrategyTests
{
    [Fact]
    public void ABackendWithoutAStrategyRunsTheWholeBatchAsOnePlan()
    {
        using var model = ModelGraphTests.TinyModel();
        using var cpu = new CpuBackend(threadCount: 2);
        var plain = new CpuBackendWithout(cpu, "nothing", _ => false);
        Assert.Null(((IBackend)plain).ExecutionStrategy);
        using var plan = model.CreatePlan(plain, batch: 4);
        Assert.Equal((1, 4), (plan.ImageThreads, plan.ImagesPerPass));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.CreatePlan(plain, batch: 4, imagesPerPass: 2));
        Assert.Contains("runs a batch in one pass", e.Message);
    }

    [Fact]
    public void TheCpuStrategyGivesEachOfTwoThreadsItsOwnImages()
    {
        using var model = ModelGraphTests.TinyModel();
        using var two = new CpuBackend(threadCount: 2);
        Assert.NotNull(two.ExecutionStrategy);
        using var four = model.CreatePlan(two, batch: 4);
        Assert.Equal((2, 2), (four.ImageThreads, four.ImagesPerPass));
        using var pair = model.CreatePlan(two, batch: 2);
        Assert.Equal((1, 2), (pair.ImageThreads, pair.ImagesPerPass)); // one image per thread: the steps share the work
        using var odd = model.CreatePlan(two, batch: 6);
        Assert.Equal(2, odd.ImageThreads);
        using var unfused = model.CreatePlan(two, batch: 4, fuse: false);
        Assert.Equal((1, 4), (unfused.ImageThreads, unfused.ImagesPerPass)); // every layer's output kept for the batch

        Assert.Equal(1, two.ExecutionStrategy.ChooseImageThreads(3));
        Assert.Equal(2, two.ExecutionStrategy.ChooseImageThreads(4));
        Assert.Equal(8, two.ExecutionStrategy.ChooseImagesPerPass(8, 10L << 20)); // passes only on one thread
    }

    [Fact]
    public void TheCpuStrategyKeepsAOneThreadPassWithinItsCacheBudget()
    {
        using var one = new CpuBackend(threadCount: 1);
        var strategy = one.ExecutionStrategy;
        Assert.Equal(1, strategy.ChooseImageThreads(8));
        Assert.Equal(2, strategy.ChooseImagesPerPass(8, 10L << 20));  // 24 MB / 10 MB
        Assert.Equal(1, strategy.ChooseImagesPerPass(8, 100L << 20)); // at least one image
        Assert.Equal(8, strategy.ChooseImagesPerPass(8, 1L << 10));   // at most the batch
    }

    [Fact]
    public void ThePlannerRunsImageThreadsOnTheStrategysBackendsAndConcurrentRun()
    {
        using var model = ModelGraphTests.TinyModel();
        using var cpu = new CpuBackend(threadCount: 1);
        var strategy = new SequentialStrategy(imageThreads: 2);
        var scheduled = new ScheduledBackend(cpu, strategy);
        // Each image thread runs a plan of 2 images: the reference is that plan, run on each half, since a batch of 4
        // may take other kernel blockings (AVX-512 GEMM tiles) and sum in another order.
        using var reference = model.CreatePlan(cpu, batch: 2);
        using var plan = model.CreatePlan(scheduled, batch: 4);
        Assert.Equal(2, plan.ImageThreads);
        Assert.Equal(2, strategy.BackendsCreated);
        Assert.Equal(2, strategy.RunsPrepared); // a plain and a profiled run, prepared once

        var input = TestData.Uniform(5, (int)plan.Input.Shape.ElementCount, 0f, 255f);
        var expected = new float[plan.Output.Shape.ElementCount];
        var actual = new float[expected.Length];
        int half = input.Length / 2, halfOutput = expected.Length / 2;
        reference.Run(input.AsSpan(0, half), expected.AsSpan(0, halfOutput));
        reference.Run(input.AsSpan(half), expected.AsSpan(halfOutput));
        plan.Run(input, actual);
        Assert.Equal(expected, actual);
        Assert.Equal(1, strategy.Runs);
        plan.RunProfiled();
        Assert.Equal(2, strategy.Runs);
    }

    [Fact]
    public void AStrategyWhoseImageThreadsDoNotDivideTheBatchIsRefused()
    {
        using var model = ModelGraphTests.TinyModel();
        using var cpu = new CpuBackend(threadCount: 1);
        var e = Assert.Throws<BackendException>(() => model.CreatePlan(new ScheduledBackend(cpu, new SequentialStrategy(imageThreads: 3)), batch: 4));
        Assert.Contains("3 image threads", e.Message);
    }

    [Fact]
    public void PredictRunsOnItsDevice()
    {
        using var model = ModelGraphTests.TinyModel();
        Assert.Same(Device.Cpu, model.PredictDevice);
        using var input = new Tensor(2, 32, 32, 3);
        TestData.Uniform(3, input.Length, 0f, 1f).CopyTo(input.Span);
        using var first = model.Predict(input);
        model.PredictDevice = Device.Parse("cpu"); // the same device: the cached plan stays
        using var second = model.Predict(input);
        Assert.Equal(first.ToArray(), second.ToArray());

        var missing = Device.Cuda(ordinal: 1_000);
        Assert.False(missing.IsAvailable);
        Assert.Contains("cuda:1000", Assert.Throws<ArgumentException>(() => model.PredictDevice = missing).Message);
        Assert.Same(Device.Cpu, model.PredictDevice);

        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.PredictDevice = Device.Cpu);
    }

    /// <summary>Image threads run one after the other on the calling thread, on single-thread CPU backends.</summary>
    private sealed class SequentialStrategy(int imageThreads) : IExecutionStrategy
    {
        public int BackendsCreated, RunsPrepared, Runs;

        public int ChooseImageThreads(int batch) => imageThreads;
        public int ChooseImagesPerPass(int batch, long peakBytesPerImage) => batch;

        public IBackend CreateImageThreadBackend()
        {
            BackendsCreated++;
            return new CpuBackend(threadCount: 1);
        }

        public IPreparedOp PrepareConcurrentRun(IReadOnlyList<IPreparedOp> items)
        {
            RunsPrepared++;
            return new Sequential(this, [.. items]);
        }

        private sealed class Sequential(SequentialStrategy owner, IPreparedOp[] items) : IPreparedOp
        {
            public void Run()
            {
                owner.Runs++;
                foreach (var item in items) item.Run();
            }

            public void Dispose() { }
        }
    }

    /// <summary>The CPU backend with a strategy of the test's own.</summary>
    private sealed class ScheduledBackend(CpuBackend inner, IExecutionStrategy strategy) : IBackend
    {
        public string Name => "cpu with a test strategy";
        public IExecutionStrategy ExecutionStrategy => strategy;
        public bool Supports(OpDescriptor op, out string? reason) => inner.Supports(op, out reason);
        public IDeviceBuffer Allocate(TensorShape shape) => inner.Allocate(shape);
        public IPreparedOp Prepare(OpDescriptor op, OpBinding binding) => inner.Prepare(op, binding);
        public void Synchronize() => inner.Synchronize();
        public void Dispose() { }
    }
}
