using NativeCnn.Backends.Cpu;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;
using NativeCnn.Tests.Layers;

namespace NativeCnn.Tests.Models;

/// <summary>
/// Fused CPU plans take a large batch a few images at a time: each pass must compute exactly what the whole batch in one
/// pass computes, the batch buffers must hold every image, and a layer output kept only for the last pass must not be
/// readable as if it were the batch's.
/// </summary>
public sealed class ImagePassesTests
{
    [Fact]
    public void PassesComputeWhatOnePassComputes()
    {
        // The pooled features, not a softmax that random weights flatten to 1/1000 for every image.
        using var model = ModelZoo.Create("efficientnet-b0", new ApplicationOptions { Resolution = 40, IncludeTop = false, Pooling = GlobalPooling.Average });
        using var backend = new CpuBackend(threadCount: 2);
        const int batch = 6;
        using var whole = model.CreatePlan(backend, batch, imagesPerPass: batch);
        using var passes = model.CreatePlan(backend, batch, imagesPerPass: 2);
        Assert.Equal(2, passes.ImagesPerPass);
        Assert.Equal(TensorShape.Nhwc(batch, 40, 40, 3), passes.Input.Shape);
        Assert.Equal(new TensorShape(batch, 1280), passes.Output.Shape);
        Assert.Equal(whole.Steps.Sum(s => s.MultiplyAccumulates), passes.Steps.Sum(s => s.MultiplyAccumulates));

        var input = TestData.Uniform(17, (int)whole.Input.Shape.ElementCount, 0f, 255f);
        var expected = new float[whole.Output.Shape.ElementCount];
        var actual = new float[expected.Length];
        whole.Run(input, expected);
        passes.Run(input, actual);
        // Each output element sums the same terms in the same order whatever the batch: the results are identical.
        Assert.Equal(expected, actual);
        // Every image differs, so a pass that wrote the wrong slice would show.
        Assert.NotEqual(expected.AsSpan(0, 1280).ToArray(), expected.AsSpan(5 * 1280, 1280).ToArray());

        passes.RunProfiled();
        Assert.All(passes.Steps, s => Assert.True(s.LastMilliseconds > 0));
        var read = new float[actual.Length];
        passes.GetActivation("avg_pool").CopyTo(read);
        Assert.Equal(expected, read);
        var e = Assert.Throws<InvalidOperationException>(() => passes.GetActivation("top_activation"));
        Assert.Contains("passes of 2 images", e.Message);
        Assert.Contains("imagesPerPass: 6", e.Message);
    }

    [Fact]
    public void LargeBatchesOfLargeImagesRunInPassesThatDivideTheBatch()
    {
        using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions());
        using var backend = new CpuBackend(threadCount: 1);
        using var plan = model.CreatePlan(backend, batch: 8);
        Assert.InRange(plan.ImagesPerPass, 1, 4);
        Assert.Equal(0, 8 % plan.ImagesPerPass);
        using var single = model.CreatePlan(backend, batch: 1);
        Assert.Equal(1, single.ImagesPerPass);
        using var layered = model.CreatePlan(backend, batch: 8, fuse: false);
        Assert.Equal(8, layered.ImagesPerPass); // every layer's output of the whole batch stays readable
        using var twoThreads = new CpuBackend(threadCount: 2);
        using var threaded = model.CreatePlan(twoThreads, batch: 8);
        Assert.Equal(2, threaded.ImageThreads); // each thread runs 4 images, in its own passes
        Assert.Equal(plan.ImagesPerPass, threaded.ImagesPerPass);
        using var shared = model.CreatePlan(twoThreads, batch: 2);
        Assert.Equal((1, 2), (shared.ImageThreads, shared.ImagesPerPass)); // one image per thread: the steps share the work
        Assert.Throws<ArgumentOutOfRangeException>(() => model.CreatePlan(backend, batch: 8, imagesPerPass: 3));
    }

    [Fact]
    public void ImageThreadsComputeWhatOneThreadComputes()
    {
        using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Resolution = 48, Alpha = 0.35, IncludeTop = false, Pooling = GlobalPooling.Average });
        using var one = new CpuBackend(threadCount: 1);
        using var two = new CpuBackend(threadCount: 2);
        const int batch = 4;
        using var reference = model.CreatePlan(one, batch, imagesPerPass: batch);
        using var threaded = model.CreatePlan(two, batch);
        Assert.Equal(2, threaded.ImageThreads);
        Assert.Equal(reference.Steps.Count, threaded.Steps.Count);
        Assert.Equal(reference.Steps.Sum(s => s.MultiplyAccumulates), threaded.Steps.Sum(s => s.MultiplyAccumulates));
        Assert.Equal(reference.Output.Shape, threaded.Output.Shape);

        var input = TestData.Uniform(23, (int)reference.Input.Shape.ElementCount, 0f, 255f);
        var expected = new float[reference.Output.Shape.ElementCount];
        var actual = new float[expected.Length];
        reference.Run(input, expected);
        for (int run = 0; run < 3; run++)
        {
            Array.Clear(actual);
            threaded.Run(input, actual);
            Assert.Equal(expected, actual); // the same kernels on the same images, whichever thread ran them
        }
        int features = expected.Length / batch;
        Assert.NotEqual(expected.AsSpan(0, features).ToArray(), expected.AsSpan(3 * features, features).ToArray());

        threaded.RunProfiled();
        Assert.All(threaded.Steps, s => Assert.True(s.LastMilliseconds > 0));
        var e = Assert.Throws<InvalidOperationException>(() => threaded.GetActivation("out_relu"));
        Assert.Contains("2 threads of 2 images", e.Message);
        Assert.Throws<KeyNotFoundException>(() => threaded.GetActivation("nope"));
        var read = new float[expected.Length];
        threaded.GetActivation(model.Output.Name).CopyTo(read);
        Assert.Equal(expected, read);
    }

    [Fact]
    public void SteadyStateRunInPassesAllocatesNothing()
    {
        using var model = ModelGraphTests.TinyModel();
        using var backend = new CpuBackend(threadCount: 1);
        using var plan = model.CreatePlan(backend, batch: 4, imagesPerPass: 1);
        plan.Input.CopyFrom(TestData.Uniform(11, 4 * 32 * 32 * 3));
        plan.Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) plan.Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
