using NativeCnn.Backends;
using NativeCnn.Backends.Ilgpu;
using NativeCnn.Layers;
using NativeCnn.Models;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>
/// The ILGPU pooling kernel loops over every tap of its window, so the op builder hands it only the taps some window can
/// place inside the input: a 2^30 'same' pool on a small map (a valid layer) runs in bounded time, and trimming
/// changes no result on random small windows (on ilgpu-cpu).
/// </summary>
[Collection(IlgpuCollection.Name)]
public sealed class IlgpuPoolingWindowTests(IlgpuFixture fixture)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HugeSamePoolOnASmallMapMatchesTheCpu(bool max)
    {
        var input = Node.Input(4, 5, 3);
        var window = (1 << 30, 1 << 30);
        Layer pool = max ? new MaxPooling2D("pool", window, (1, 1), Padding.Same) : new AveragePooling2D("pool", window, (1, 2), Padding.Same);
        AssertGpuMatchesCpu(new Model("huge_pool", input, pool.Call(input)), seed: max ? 11 : 12);
    }

    [Theory]
    // 'same' 2^30 on 4 rows (top pad 2^29 - 1): 7 taps can land inside, 3 of them before the first window's first row.
    [InlineData(4, 4, 1 << 30, 1, (1 << 29) - 1, 7, 3)]
    [InlineData(5, 3, 3, 2, 1, 3, 1)]       // an ordinary window: nothing to drop
    [InlineData(6, 1, 10, 1, 2, 6, 0)]      // one window: the taps before the pad and past the map go
    [InlineData(3, 2, 2, 1, 0, 2, 0)]       // 'valid': every tap lands inside
    public void ReachableTapsKeepWhatSomeWindowCanReach(int input, int outputs, int pool, int stride, int pad, int expectedPool, int expectedPad) =>
        Assert.Equal((expectedPool, expectedPad), IlgpuOps.ReachableTaps(input, outputs, pool, stride, pad));

    [Fact]
    public void TrimmedWindowsMatchTheCpuOnRandomPools()
    {
        var random = new Random(20260801);
        int run = 0;
        for (int i = 0; i < 40; i++)
        {
            var input = Node.Input(random.Next(1, 9), random.Next(1, 9), random.Next(1, 5));
            (int, int) window = (random.Next(1, 9), random.Next(1, 9)), strides = (random.Next(1, 4), random.Next(1, 4));
            var padding = random.Next(2) == 0 ? Padding.Same : Padding.Valid;
            Layer pool = random.Next(2) == 0 ? new MaxPooling2D("pool", window, strides, padding) : new AveragePooling2D("pool", window, strides, padding);
            Node output;
            try
            {
                output = pool.Call(input);
            }
            catch (LayerException)
            {
                continue; // a 'valid' window larger than its input
            }
            AssertGpuMatchesCpu(new Model("pool", input, output), seed: i);
            run++;
        }
        Assert.True(run >= 15, $"only {run} of 40 random pools were valid");
    }

    private void AssertGpuMatchesCpu(Model model, int seed)
    {
        using (model)
        {
            using var cpuPlan = model.CreatePlan(fixture.Cpu);
            using var gpuPlan = model.CreatePlan(fixture.Ilgpu);
            var input = TestData.Uniform(seed, (int)cpuPlan.Input.Shape.ElementCount, -2f, 1f);
            var expected = new float[cpuPlan.Output.Shape.ElementCount];
            var actual = new float[expected.Length];
            cpuPlan.Run(input, expected);
            gpuPlan.Run(input, actual);
            Precision.AssertClose(expected, actual, 1e-5, 2.0, $"{model.Layers[^1].Describe()} over {model.Input.OutputShape}");
        }
    }
}
