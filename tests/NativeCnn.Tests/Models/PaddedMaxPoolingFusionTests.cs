using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Models;

/// <summary>
/// ZeroPadding2D folded into the 'valid' MaxPooling2D after it (ResNet's pool1_pad, pool1_pool): padded cells count as
/// zeros, so on negative inputs the fused plan must still give exactly what padding then pooling gives.
/// </summary>
public class PaddedMaxPoolingFusionTests
{
    [Theory]
    [InlineData(1, 1, 1, 1, 3, 2, 1)]   // ResNet's pool1: pad 1, 3x3 stride 2
    [InlineData(0, 2, 1, 0, 3, 2, 2)]   // asymmetric
    [InlineData(2, 1, 0, 3, 2, 1, 3)]   // pad wider than the window reaches: windows of padding only
    public void FusedPlanEqualsPaddingThenPooling(int top, int bottom, int left, int right, int pool, int stride, int batch)
    {
        const int height = 9, width = 11, channels = 19;
        var input = Node.Input(height, width, channels);
        var padded = new ZeroPadding2D("pad", new Padding2D(top, bottom, left, right)).Call(input);
        var output = new MaxPooling2D("pool", pool, stride).Call(padded);
        using var model = new Model("padded_pool", input, output);
        using var backend = new CpuBackend(threadCount: 2);
        using var layered = model.CreatePlan(backend, batch, fuse: false);
        using var fused = model.CreatePlan(backend, batch);
        var step = Assert.Single(fused.Steps);
        Assert.Equal(["pad", "pool"], step.Layers.Select(n => n.Name));
        Assert.Equal(new Pooling2DOp(PoolingMode.Max, pool, pool, stride, stride, new Padding2D(top, bottom, left, right), PaddedCellsAreZeros: true),
                     step.Op);

        // Mostly negative, so that a window reaching into the padding gives 0 where 'same' pooling would not.
        var x = TestData.Uniform(seed: 17 + top + 10 * right, batch * height * width * channels, -4f, 1f);
        layered.Input.CopyFrom(x);
        fused.Input.CopyFrom(x);
        layered.Run();
        fused.Run();
        var expected = new float[layered.Output.Shape.ElementCount];
        var actual = new float[fused.Output.Shape.ElementCount];
        layered.Output.CopyTo(expected);
        fused.Output.CopyTo(actual);
        Assert.Equal(expected, actual);
        Assert.Contains(0f, actual);

        var reference = ReferenceElementwise.Pool(ToFloat(ReferenceElementwise.ZeroPad(x, batch, height, width, channels, top, bottom, left, right)),
            batch, height + top + bottom, width + left + right, channels, pool, stride, same: false, max: true);
        Precision.AssertClose(reference, actual, relative: 0);
    }

    [Fact]
    public void ResNet50PoolsWithoutAPaddingStep()
    {
        using var model = ModelZoo.Create("resnet50", new ApplicationOptions { Resolution = 64 });
        using var backend = new CpuBackend(threadCount: 1);
        using var plan = model.CreatePlan(backend, batch: 1);
        Assert.DoesNotContain(plan.Steps, s => s.Name == "pool1_pad");
        var pool = plan.Steps.Single(s => s.Name == "pool1_pool");
        Assert.Equal(["pool1_pad", "pool1_pool"], pool.Layers.Select(n => n.Name));
        Assert.True(((Pooling2DOp)pool.Op).PaddedCellsAreZeros);
    }

    [Fact]
    public void BackendWithoutZeroPaddedPoolingKeepsThePaddingStep()
    {
        using var model = ModelZoo.Create("resnet50", new ApplicationOptions { Resolution = 64 });
        using var cpu = new CpuBackend(threadCount: 1);
        using var backend = new CpuBackendWithout(cpu, "zero padded pooling", op => op is Pooling2DOp { PaddedCellsAreZeros: true });
        using var plan = model.CreatePlan(backend, batch: 1);
        Assert.Contains(plan.Steps, s => s.Name == "pool1_pad" && s.Op is ZeroPadding2DOp);
        Assert.False(((Pooling2DOp)plan.Steps.Single(s => s.Name == "pool1_pool").Op).PaddedCellsAreZeros);
    }

    [Fact]
    public void AveragePoolingKeepsThePaddingStep()
    {
        var input = Node.Input(6, 6, 3);
        var output = new AveragePooling2D("pool", 2, 2).Call(new ZeroPadding2D("pad", 1).Call(input));
        using var model = new Model("padded_average", input, output);
        using var backend = new CpuBackend(threadCount: 1);
        using var plan = model.CreatePlan(backend, batch: 1);
        Assert.Equal(["pad", "pool"], plan.Steps.Select(s => s.Name));
    }

    private static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();
}
