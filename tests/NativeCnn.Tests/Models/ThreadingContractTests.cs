using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Tests.Layers;

namespace NativeCnn.Tests.Models;

/// <summary>
/// The threading contract (README "Security and threading"): <see cref="Model.Predict"/> is safe from any number of
/// threads; a plan runs one batch at a time and refuses a concurrent run instead of mixing two batches' buffers.
/// </summary>
public sealed class ThreadingContractTests
{
    private static readonly TimeSpan s_soak = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task PredictFromFourThreadsGivesTheSequentialResultsBitForBit()
    {
        using var model = ModelGraphTests.TinyModel();
        // Batch sizes change between calls, so the threads also race the replacement of the cached plan (which once
        // disposed a plan that another thread was running).
        int[] batches = [1, 2, 3, 1, 4, 2];
        var inputs = batches.Select((b, i) => Tensor.FromArray(TestData.Uniform(100 + i, b * 32 * 32 * 3), TensorShape.Nhwc(b, 32, 32, 3))).ToArray();
        try
        {
            var expected = inputs.Select(x => { using var y = model.Predict(x); return y.ToArray(); }).ToArray();
            int calls = 0;
            var deadline = DateTime.UtcNow + s_soak;
            var threads = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                for (int i = t; DateTime.UtcNow < deadline || i < t + inputs.Length; i++)
                {
                    int k = i % inputs.Length;
                    using var y = model.Predict(inputs[k]);
                    Assert.Equal(expected[k], y.ToArray());
                    Interlocked.Increment(ref calls);
                }
            })).ToArray();
            await Task.WhenAll(threads);
            Assert.True(calls >= 4 * inputs.Length, $"only {calls} calls ran");
        }
        finally
        {
            foreach (var x in inputs) x.Dispose();
        }
    }

    [Fact]
    public async Task ARunWhileThePlanIsRunningThrowsAndTheRunInProgressIsUnaffected()
    {
        using var model = ModelGraphTests.TinyModel();
        using var cpu = new CpuBackend(threadCount: 1);
        var gate = new PausingBackend(cpu);
        using var plan = model.CreatePlan(gate, batch: 1);
        var x = TestData.Uniform(7, 32 * 32 * 3);
        var expected = new float[10];
        using (var reference = model.CreatePlan(cpu, batch: 1)) reference.Run(x, expected);

        var output = new float[10];
        gate.PauseNextRun();
        var running = Task.Run(() => plan.Run(x, output));
        Assert.True(gate.Paused.Wait(TimeSpan.FromSeconds(30)), "the first run never reached its first step");

        var other = new float[10];
        var error = Assert.Throws<InvalidOperationException>(() => plan.Run(TestData.Uniform(8, 32 * 32 * 3), other));
        Assert.Contains("already running on another thread", error.Message);
        Assert.Contains(model.Name, error.Message);
        Assert.Throws<InvalidOperationException>(() => plan.Run());
        Assert.Throws<InvalidOperationException>(() => plan.RunProfiled());
        Assert.All(other, v => Assert.Equal(0f, v));

        gate.Resume();
        await running;
        Assert.Equal(expected, output);
        plan.Run(x, output); // idle again: runs
        Assert.Equal(expected, output);
    }

    [Fact]
    public async Task DisposeDuringARunReleasesThePlanWhenTheRunEnds()
    {
        using var model = ModelGraphTests.TinyModel();
        using var cpu = new CpuBackend(threadCount: 1);
        var gate = new PausingBackend(cpu);
        var plan = model.CreatePlan(gate, batch: 1);
        var x = TestData.Uniform(9, 32 * 32 * 3);
        var output = new float[10];
        gate.PauseNextRun();
        var running = Task.Run(() => plan.Run(x, output));
        Assert.True(gate.Paused.Wait(TimeSpan.FromSeconds(30)));

        plan.Dispose();
        Assert.Equal(0, gate.Released); // not while a step is running
        gate.Resume();
        await running;
        Assert.True(gate.Released > 0, "the plan's ops were not released after the run");
        Assert.Throws<ObjectDisposedException>(() => plan.Run());
        plan.Dispose();
    }

    [Fact]
    public async Task ConcurrentRunsOnOnePlanNeverYieldAWrongOutput()
    {
        using var model = ModelGraphTests.TinyModel();
        using var backend = new CpuBackend(threadCount: 2);
        using var plan = model.CreatePlan(backend, batch: 2);
        var inputs = Enumerable.Range(0, 2).Select(i => TestData.Uniform(40 + i, 2 * 32 * 32 * 3)).ToArray();
        var expected = inputs.Select(x => { var y = new float[20]; plan.Run(x, y); return y; }).ToArray();
        int runs = 0, refused = 0;
        var deadline = DateTime.UtcNow + s_soak;
        var threads = Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            var y = new float[20];
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    plan.Run(inputs[t], y);
                }
                catch (InvalidOperationException)
                {
                    Interlocked.Increment(ref refused);
                    continue;
                }
                Assert.Equal(expected[t], y);
                Interlocked.Increment(ref runs);
            }
        })).ToArray();
        await Task.WhenAll(threads);
        Assert.True(runs > 0, $"no run succeeded ({refused} refused)");
    }

    [Fact]
    public async Task PlansOnOneCpuBackendRunOnDifferentThreadsAtOnce()
    {
        using var model = ModelGraphTests.TinyModel();
        using var backend = new CpuBackend(threadCount: 2);
        var plans = Enumerable.Range(0, 3).Select(_ => model.CreatePlan(backend, batch: 1)).ToArray();
        try
        {
            var x = TestData.Uniform(5, 32 * 32 * 3);
            var expected = new float[10];
            plans[0].Run(x, expected);
            var deadline = DateTime.UtcNow + s_soak;
            await Task.WhenAll(plans.Select(plan => Task.Run(() =>
            {
                var y = new float[10];
                while (DateTime.UtcNow < deadline)
                {
                    plan.Run(x, y);
                    Assert.Equal(expected, y);
                }
            })).ToArray());
        }
        finally
        {
            foreach (var plan in plans) plan.Dispose();
        }
    }

    [Fact]
    public async Task DisposingTheModelWhilePredictRunsEndsInObjectDisposedNotACrash()
    {
        var model = ModelGraphTests.TinyModel();
        using var x = Tensor.FromArray(TestData.Uniform(3, 32 * 32 * 3), TensorShape.Nhwc(1, 32, 32, 3));
        using var started = new CountdownEvent(2);
        var callers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            started.Signal();
            try
            {
                while (true) model.Predict(x).Dispose();
            }
            catch (ObjectDisposedException)
            {
            }
        })).ToArray();
        started.Wait();
        Thread.Sleep(100);
        model.Dispose();
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30)); // a caller that did not stop after Dispose times out
    }

    /// <summary>The CPU backend whose ops can hold a run at its first step, so a test can act while a plan is running.</summary>
    private sealed class PausingBackend(CpuBackend inner) : IBackend
    {
        private readonly ManualResetEventSlim _resume = new(true);
        private int _pauseNext;
        private int _released;

        public ManualResetEventSlim Paused { get; } = new(false);
        public int Released => Volatile.Read(ref _released);
        public string Name => "cpu, pausing";
        public bool Supports(OpDescriptor op, out string? reason) => inner.Supports(op, out reason);
        public IDeviceBuffer Allocate(TensorShape shape) => inner.Allocate(shape);
        public IPreparedOp Prepare(OpDescriptor op, OpBinding binding) => new Pausing(this, inner.Prepare(op, binding));
        public void Synchronize() => inner.Synchronize();
        public void Dispose() { }

        public void PauseNextRun()
        {
            _resume.Reset();
            Paused.Reset();
            Volatile.Write(ref _pauseNext, 1);
        }

        public void Resume() => _resume.Set();

        private sealed class Pausing(PausingBackend owner, IPreparedOp op) : IPreparedOp
        {
            public void Run()
            {
                if (Interlocked.Exchange(ref owner._pauseNext, 0) == 1)
                {
                    owner.Paused.Set();
                    owner._resume.Wait();
                }
                op.Run();
            }

            public void Dispose()
            {
                Interlocked.Increment(ref owner._released);
                op.Dispose();
            }
        }
    }
}
