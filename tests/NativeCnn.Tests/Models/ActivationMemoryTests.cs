using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Models;

/// <summary>
/// Fused plans share activation memory between layers whose outputs are never alive together: the slot assignment
/// keeps every live output intact, the shared plan computes exactly what one buffer per step computes, and reading a
/// reused layer's output is an error, never stale data.
/// </summary>
public sealed class ActivationMemoryTests
{
    [Fact]
    public void SkipConnectionInputStaysAliveUntilTheAdd()
    {
        // 0: stem (reads the plan input) -> 1 -> 2 -> 3: add(2, 0) -> 4: output. The skip (step 0) is read by step 3,
        // so steps 1 and 2 must not take its slot; step 3 must not write into either of its inputs.
        long[] sizes = [100, 100, 100, 100, 10];
        int[][] inputs = [[], [0], [1], [2, 0], [3]];
        var plan = ActivationMemoryPlan.Shared(sizes, inputs, pinned: 4);

        AssertValid(sizes, inputs, 4, plan);
        Assert.NotEqual(plan.SlotOf[0], plan.SlotOf[1]);
        Assert.NotEqual(plan.SlotOf[0], plan.SlotOf[2]);
        Assert.NotEqual(plan.SlotOf[0], plan.SlotOf[3]);
        Assert.NotEqual(plan.SlotOf[2], plan.SlotOf[3]);
        Assert.Equal(plan.SlotOf[1], plan.SlotOf[3]); // step 1 is dead once step 2 ran: the add reuses its memory
        Assert.Equal(310, plan.SlotSizes.Sum());
        Assert.Equal([-1, 3, -1, -1, -1], plan.OverwrittenBy);
    }

    [Fact]
    public void ChainAlternatesBetweenTwoSlots()
    {
        // Largest first: 80 opens a slot that 60 joins, 40 opens the second that 20 and 10 join; 5 is the pinned output.
        long[] sizes = [40, 80, 20, 60, 10, 5];
        int[][] inputs = [[], [0], [1], [2], [3], [4]];
        var plan = ActivationMemoryPlan.Shared(sizes, inputs, pinned: 5);
        AssertValid(sizes, inputs, 5, plan);
        Assert.Equal(80 + 40 + 5, plan.SlotSizes.Sum());
        Assert.Equal(plan.SlotOf[1], plan.SlotOf[3]);
    }

    [Fact]
    public void SeparatePlanGivesEveryStepItsOwnSlot()
    {
        var plan = ActivationMemoryPlan.Separate([3, 1, 2]);
        Assert.Equal([0, 1, 2], plan.SlotOf);
        Assert.Equal([3L, 1, 2], plan.SlotSizes);
        Assert.All(plan.OverwrittenBy, o => Assert.Equal(-1, o));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomGraphsNeverShareMemoryBetweenLiveOutputs(int seed)
    {
        var random = new Random(seed);
        int count = random.Next(5, 60);
        var sizes = new long[count];
        var inputs = new int[count][];
        for (int step = 0; step < count; step++)
        {
            sizes[step] = random.Next(1, 1000);
            // Mostly the previous step, sometimes an older one as well (skips), or only the plan input.
            var reads = new HashSet<int>();
            if (step > 0) reads.Add(step - 1);
            if (step > 1 && random.Next(3) == 0) reads.Add(random.Next(step - 1));
            inputs[step] = [.. reads];
        }
        int pinned = count - 1;
        var plan = ActivationMemoryPlan.Shared(sizes, inputs, pinned);
        AssertValid(sizes, inputs, pinned, plan);
        Assert.True(plan.SlotSizes.Sum() <= sizes.Sum());
    }

    [Fact]
    public void SharedPlanMatchesOneBufferPerStepAndReportsItsMemory()
    {
        using var model = ResidualModel();
        using var backend = new CpuBackend(threadCount: 2);
        using var shared = model.CreatePlan(backend, batch: 2);
        using var separate = new ExecutionPlan(model, backend, 2, fuse: true, reuseBuffers: false);
        var input = TestData.Uniform(21, (int)shared.Input.Shape.ElementCount);
        var expected = new float[shared.Output.Shape.ElementCount];
        var actual = new float[expected.Length];
        for (int run = 0; run < 2; run++)
        {
            separate.Run(input, expected);
            shared.Run(input, actual);
            Assert.Equal(expected, actual);
        }

        Assert.Equal(separate.ActivationBytes, separate.ActivationBytesWithoutReuse);
        Assert.Equal(separate.ActivationBytes, shared.ActivationBytesWithoutReuse);
        Assert.True(shared.ActivationBytes < shared.ActivationBytesWithoutReuse,
            $"{shared.ActivationBytes} bytes shared, {shared.ActivationBytesWithoutReuse} without reuse");
        using var unfused = model.CreatePlan(backend, batch: 2, fuse: false);
        Assert.Equal(unfused.ActivationBytes, unfused.ActivationBytesWithoutReuse);
    }

    [Fact]
    public void ReadingAReusedLayerThrowsNamingTheLayerThatReusesIt()
    {
        using var model = ResidualModel();
        using var backend = new CpuBackend(threadCount: 1);
        using var plan = model.CreatePlan(backend, batch: 1);
        plan.Input.CopyFrom(TestData.Uniform(22, (int)plan.Input.Shape.ElementCount));
        plan.Run();

        // The stem step's output is dead once the residual add has read it; convolution 'c' then writes into its memory.
        var e = Assert.Throws<InvalidOperationException>(() => plan.GetActivation("stem_relu"));
        Assert.Contains("'stem_relu'", e.Message);
        Assert.Contains("reused by layer 'c'", e.Message);
        Assert.Contains("fuse: false", e.Message);
        // Still as before: a layer inside a fused step, an unknown name, the input, and layers nothing overwrites.
        Assert.Contains("runs fused into", Assert.Throws<InvalidOperationException>(() => plan.GetActivation("stem_bn")).Message);
        Assert.Throws<KeyNotFoundException>(() => plan.GetActivation("nope"));
        Assert.Same(plan.Input, plan.GetActivation("input_layer"));
        Assert.Same(plan.Output, plan.GetActivation("predictions"));
        Assert.Equal(new TensorShape(1, 8), plan.GetActivation("avg_pool").Shape);

        using var unfused = model.CreatePlan(backend, batch: 1, fuse: false);
        unfused.Input.CopyFrom(TestData.Uniform(22, (int)plan.Input.Shape.ElementCount));
        unfused.Run();
        Assert.Equal(TensorShape.Nhwc(1, 8, 8, 8), unfused.GetActivation("stem_relu").Shape);
        Assert.Equal(TestData.ReadBack(unfused.GetActivation("avg_pool")), TestData.ReadBack(plan.GetActivation("avg_pool")), new ToleranceComparer(1e-5f));
    }

    [Fact]
    public void SharedPlanRunAllocatesNothing()
    {
        using var model = ResidualModel();
        using var backend = new CpuBackend(threadCount: 1);
        using var plan = model.CreatePlan(backend, batch: 2);
        Assert.True(plan.ActivationBytes < plan.ActivationBytesWithoutReuse);
        plan.Input.CopyFrom(TestData.Uniform(23, (int)plan.Input.Shape.ElementCount));
        plan.Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) plan.Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData("efficientnet-b0", 64)]
    [InlineData("mobilenetv2", 72)]
    [InlineData("resnet50", 64)]
    public void ApplicationsGiveBitIdenticalOutputsWithSharedMemory(string architecture, int resolution)
    {
        using var model = ModelZoo.Create(architecture, new ApplicationOptions { Resolution = resolution });
        using var backend = new CpuBackend(threadCount: 2);
        const int batch = 2;
        using var shared = model.CreatePlan(backend, batch);
        using var separate = new ExecutionPlan(model, backend, batch, fuse: true, reuseBuffers: false);
        var input = TestData.Uniform(resolution, (int)shared.Input.Shape.ElementCount, 0f, 255f);
        var expected = new float[shared.Output.Shape.ElementCount];
        var actual = new float[expected.Length];
        separate.Run(input, expected);
        shared.Run(input, actual);
        Assert.Equal(expected, actual);
        // Twice: the second run starts from memory the first left full of other layers' outputs.
        shared.Run(input, actual);
        Assert.Equal(expected, actual);
        Assert.True(shared.ActivationBytes * 2 < shared.ActivationBytesWithoutReuse,
            $"{architecture}: {shared.ActivationBytes} bytes shared, {shared.ActivationBytesWithoutReuse} without reuse");
    }

    [Fact]
    public void TensorViewSharesMemoryAndFreesNothing()
    {
        using var tensor = new Tensor(2, 3, 4, 5);
        using (var view = tensor.View(TensorShape.Nhwc(1, 2, 2, 5)))
        {
            Assert.Equal(20, view.Length);
            view.Span.Fill(7f);
            Assert.Equal(7f, tensor.Span[19]);
            Assert.Equal(0f, tensor.Span[20]);
            unsafe { Assert.True(view.Pointer == tensor.Pointer); }
        }
        tensor.Span[0] = 1f; // still allocated after the view was disposed
        Assert.Equal(1f, tensor.Span[0]);
        Assert.Throws<ArgumentException>(() => tensor.View(new TensorShape(121)));
        using IDeviceBuffer buffer = new HostBuffer(tensor);
        Assert.Equal(new TensorShape(120), buffer.View(new TensorShape(120)).Shape);
    }

    /// <summary>
    /// input -> stem (conv+BN+ReLU) -> a (conv+ReLU) -> b (conv+BN) + stem -> ReLU -> c (conv) -> avg_pool -> predictions:
    /// a residual block whose skip input must outlive the branch.
    /// </summary>
    private static Model ResidualModel()
    {
        var input = Node.Input(16, 16, 3);
        var stem = new Conv2D("stem", 8, 3, 2, Padding.Same, useBias: false).Call(input);
        stem = new BatchNormalization("stem_bn").Call(stem);
        stem = new Activation("stem_relu", ActivationFunction.Relu).Call(stem);
        var a = new Conv2D("a", 16, 3, 1, Padding.Same, activation: ActivationFunction.Relu).Call(stem);
        var b = new Conv2D("b", 8, 1, 1, Padding.Same, useBias: false).Call(a);
        b = new BatchNormalization("b_bn").Call(b);
        var add = new Add("add").Call(b, stem);
        var relu = new Activation("add_relu", ActivationFunction.Relu).Call(add);
        var c = new Conv2D("c", 8, 3, 1, Padding.Same).Call(relu);
        var pool = new GlobalAveragePooling2D("avg_pool").Call(c);
        var output = new Dense("predictions", 4, ActivationFunction.Softmax).Call(pool);
        return new Model("residual", input, output);
    }

    /// <summary>The plan invariants: no two outputs alive at once share a slot, slots hold their outputs, the pinned step is alone.</summary>
    private static void AssertValid(long[] sizes, int[][] inputs, int pinned, ActivationMemoryPlan plan)
    {
        int count = sizes.Length;
        var lastRead = Enumerable.Range(0, count).ToArray();
        for (int step = 0; step < count; step++)
            foreach (int input in inputs[step]) lastRead[input] = Math.Max(lastRead[input], step);
        for (int i = 0; i < count; i++)
        {
            Assert.True(plan.SlotSizes[plan.SlotOf[i]] >= sizes[i], $"step {i} does not fit its slot");
            int next = -1;
            for (int j = i + 1; j < count; j++)
            {
                if (plan.SlotOf[j] != plan.SlotOf[i]) continue;
                Assert.NotEqual(pinned, i);
                Assert.True(lastRead[i] < j, $"step {j} overwrites step {i}, which step {lastRead[i]} still reads");
                if (next < 0) next = j;
            }
            Assert.Equal(next, plan.OverwrittenBy[i]);
            for (int j = 0; j < i; j++) Assert.False(j == pinned && plan.SlotOf[j] == plan.SlotOf[i], $"step {i} shares the pinned slot");
        }
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance * Math.Max(1f, Math.Abs(x));
        public int GetHashCode(float value) => 0;
    }
}
