using System.Globalization;
using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Training;
using NativeCnn.Weights.Keras;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Training;

/// <summary>
/// Whole-model training steps against PyTorch's float64 autograd (<c>tests/reference/torch/model_gradients.py</c>,
/// which rebuilds the model from the Keras config NativeCnn writes): the loss, every weight's gradient and the moving
/// statistics after one step, for a small CNN with every kind of branch the zoo uses (residual add, squeeze-and-excitation,
/// padding, pooling, BatchNormalization in training mode), trained whole and with a frozen stem.
/// </summary>
public sealed class TrainingPlanTests(ITestOutputHelper output) : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-training-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>A small CNN with a residual add, an SE block, padding, both poolings and two BatchNormalizations.</summary>
    internal static Model SmallCnn(int classes = 5)
    {
        var input = Node.Input(11, 9, 3, "image");
        var x = new Conv2D("conv1", 8, 3, strides: 2, padding: Padding.Same, useBias: false).Call(input);
        x = new BatchNormalization("bn1", momentum: 0.9).Call(x);
        var stem = new ReLU("relu1", 6f).Call(x);
        x = new DepthwiseConv2D("dw", 3, padding: Padding.Same, activation: ActivationFunction.Swish).Call(stem);
        x = new Conv2D("expand", 12, 1, activation: ActivationFunction.HardSwish).Call(x);
        var se = new GlobalAveragePooling2D("se_squeeze", keepDims: true).Call(x);
        se = new Conv2D("se_reduce", 3, 1, activation: ActivationFunction.Relu).Call(se);
        se = new Conv2D("se_expand", 12, 1, activation: ActivationFunction.Sigmoid).Call(se);
        x = new Multiply("se_excite").Call(x, se);
        x = new Conv2D("project", 8, 1, useBias: false).Call(x);
        x = new BatchNormalization("bn2").Call(x);
        x = new Add("add").Call(x, stem);
        x = new MaxPooling2D("pool", 2, 1).Call(x);
        x = new ZeroPadding2D("pad", new Padding2D(1, 0, 0, 1)).Call(x);
        x = new Conv2D("conv3", 6, 3, activation: ActivationFunction.Tanh).Call(x);
        x = new AveragePooling2D("avg", 2, 1, Padding.Same).Call(x);
        x = new GlobalAveragePooling2D("gap").Call(x);
        x = new Dense("fc", 7, ActivationFunction.Relu).Call(x);
        x = new Dense("out", classes, ActivationFunction.Softmax).Call(x);
        var model = new Model("small_cnn", input, x);
        int seed = 100;
        foreach (var weight in model.Weights)
        {
            var values = weight.Name switch
            {
                "moving_variance" => TestData.Uniform(++seed, weight.Value.Length, 0.5f, 1.5f),
                "gamma" => TestData.Uniform(++seed, weight.Value.Length, 0.5f, 1.5f),
                _ => TestData.Uniform(++seed, weight.Value.Length, -0.6f, 0.6f),
            };
            values.CopyTo(weight.Value.Span);
        }
        return model;
    }

    /// <summary>
    /// A small model of the layers beyond the zoo's: SeparableConv2D, Conv2DTranspose, UpSampling2D nearest and bilinear,
    /// Subtract, Maximum, Minimum, Average, LayerNormalization, PReLU and Permute.
    /// </summary>
    internal static Model BreadthCnn(int classes = 5)
    {
        var input = Node.Input(8, 6, 3, "image");
        var x = new SeparableConv2D("sep", 6, (3, 3), (2, 2), Padding.Same, depthMultiplier: 2, activation: ActivationFunction.Swish).Call(input);
        var up = new Conv2DTranspose("deconv", 4, 3, strides: 2, padding: Padding.Same, activation: ActivationFunction.Tanh).Call(x);
        var nearest = new UpSampling2D("up_nearest", 2).Call(x);
        nearest = new Conv2D("mix_nearest", 4, 1).Call(nearest);
        var bilinear = new UpSampling2D("up_bilinear", 2, Interpolation.Bilinear).Call(x);
        bilinear = new Conv2D("mix_bilinear", 4, 1).Call(bilinear);
        var difference = new Subtract("subtract").Call(up, nearest);
        var largest = new Maximum("maximum").Call(difference, bilinear, up);
        var smallest = new Minimum("minimum").Call(difference, bilinear);
        x = new Average("average").Call(largest, smallest, up);
        x = new LayerNormalization("ln").Call(x);
        x = new PReLU("prelu", 1, 2).Call(x);
        x = new Permute("permute", 2, 1, 3).Call(x);
        x = new SeparableConv2D("sep2", 5, (3, 3), padding: Padding.Valid, activation: ActivationFunction.Relu).Call(x);
        x = new GlobalAveragePooling2D("gap").Call(x);
        x = new Dense("out", classes, ActivationFunction.Softmax).Call(x);
        var model = new Model("breadth_cnn", input, x);
        int seed = 400;
        foreach (var weight in model.Weights)
        {
            var values = weight.Name == "gamma" ? TestData.Uniform(++seed, weight.Value.Length, 0.5f, 1.5f)
                : TestData.Uniform(++seed, weight.Value.Length, -0.6f, 0.6f);
            values.CopyTo(weight.Value.Span);
        }
        return model;
    }

    internal static (float[] X, float[] Labels) Batch(Model model, int batch)
    {
        var x = TestData.Uniform(7, checked(batch * (int)model.Input.OutputShape.ElementCount), -1.5f, 1.5f);
        var labels = Enumerable.Range(0, batch).Select(i => (float)(i * 3 % model.Output.OutputShape.Channels)).ToArray();
        return (x, labels);
    }

    /// <summary>Writes the model and batch, runs the PyTorch step, and returns the folder of its results.</summary>
    private string RunTorch(Model model, float[] x, float[] labels, params string[] frozen)
    {
        File.WriteAllText(Path.Combine(_work, "config.json"), KerasModelConfig.ToJson(model));
        Directory.CreateDirectory(Path.Combine(_work, "weights"));
        foreach (var weight in model.Weights)
            NpyFile.Write(Path.Combine(_work, "weights", $"{weight.Layer.Name}__{weight.Name}.npy"), weight.Value);
        NpyFile.Write(Path.Combine(_work, "x.npy"), x, model.Input.OutputShape.WithBatch(labels.Length));
        NpyFile.Write(Path.Combine(_work, "y.npy"), labels, new TensorShape(labels.Length));
        string script = Path.Combine(TestPaths.RepositoryRoot, "tests", "reference", "torch", "model_gradients.py");
        TestProcess.Run(Python, [script, _work, string.Join(",", frozen)], _work, TimeSpan.FromMinutes(2));
        return Path.Combine(_work, "out");
    }

    private static float[] ReadNpy(string path)
    {
        using var tensor = NpyFile.Read(path);
        return tensor.ToArray();
    }

    // Largest difference relative to the largest reference magnitude: float32 arithmetic against float64 autograd.
    private double AssertClose(float[] expected, ReadOnlySpan<float> actual, string what, double tolerance = 2e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1e-12, expected.Max(v => Math.Abs((double)v))), worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - (double)actual[i]) / scale);
        output.WriteLine($"{what}: max error {worst:E2} of {scale:G3}");
        Assert.True(worst <= tolerance, $"{what}: max error {worst:E3} relative to {scale:G4} exceeds {tolerance:E1}");
        return worst;
    }

    [ReferenceFact(ExternalReference.PyTorch)]
    public void OneStepOfASmallCnnMatchesPyTorchAutogradWeightForWeight()
    {
        using var model = SmallCnn();
        var (x, labels) = Batch(model, batch: 3);
        string reference = RunTorch(model, x, labels);

        using var backend = new CpuBackend(2);
        using var plan = new TrainingPlan(model, backend, 3, new SparseCategoricalCrossentropy());
        float loss = plan.ComputeGradients(x, labels);
        Assert.Equal(ReadNpy(Path.Combine(reference, "loss.npy"))[0], loss, 4e-5f);

        var names = plan.Gradients.Names.ToArray();
        Assert.Equal(model.Weights.Count(w => w.Trainable), names.Length);
        foreach (string name in names)
            AssertClose(ReadNpy(Path.Combine(reference, name.Replace("/", "__", StringComparison.Ordinal) + ".npy")), plan.Gradients[name], name);
        foreach (string bn in new[] { "bn1", "bn2" })
            foreach (string statistic in new[] { "moving_mean", "moving_variance" })
                AssertClose(ReadNpy(Path.Combine(reference, $"moving__{bn}__{statistic}.npy")), model.GetLayer(bn).GetWeight(statistic).Value.Span,
                            $"{bn}/{statistic} after the step", 1e-5);
    }

    [ReferenceTheory(ExternalReference.PyTorch)]
    [InlineData("")]
    [InlineData("deconv,ln,prelu,sep2")]
    public void OneStepOfAModelOfTheNewerLayersMatchesPyTorchAutogradWeightForWeight(string frozenLayers)
    {
        using var model = BreadthCnn();
        string[] frozen = frozenLayers.Split(',', StringSplitOptions.RemoveEmptyEntries);
        foreach (string layer in frozen) model.GetLayer(layer).Trainable = false;
        var (x, labels) = Batch(model, batch: 3);
        string reference = RunTorch(model, x, labels, frozen);

        using var backend = new CpuBackend(2);
        using var plan = new TrainingPlan(model, backend, 3, new SparseCategoricalCrossentropy());
        float loss = plan.ComputeGradients(x, labels);
        Assert.Equal(ReadNpy(Path.Combine(reference, "loss.npy"))[0], loss, 2e-5f);
        AssertClose(ReadNpy(Path.Combine(reference, "output.npy")), plan.LastOutputs, "output", 1e-5);
        var names = plan.Gradients.Names.ToArray();
        Assert.Equal(model.Weights.Count(w => w.Trainable && w.Layer.Trainable), names.Length);
        Assert.DoesNotContain(names, n => frozen.Contains(n.Split('/')[0]));
        double worst = 0;
        foreach (string name in names)
            worst = Math.Max(worst, AssertClose(ReadNpy(Path.Combine(reference, name.Replace("/", "__", StringComparison.Ordinal) + ".npy")),
                                                plan.Gradients[name], name, 1e-5));
        output.WriteLine($"{names.Length} gradients, worst {worst:E2}");
    }

    [ReferenceFact(ExternalReference.PyTorch)]
    public void TransposedConvolutionsWithAKernelSmallerThanTheStrideAndOutputPaddingMatchPyTorchAutograd()
    {
        var input = Node.Input(4, 3, 2, "image");
        // 'valid' with kernel 2 < stride 3: 12x9, the last row and column of each 3x3 cell only bias; then output_padding.
        var x = new Conv2DTranspose("deconv_valid", 3, (2, 2), (3, 3), Padding.Valid, activation: ActivationFunction.Elu(1f)).Call(input);
        x = new Conv2DTranspose("deconv_padded", 4, (3, 3), (2, 2), Padding.Same, outputPadding: (1, 1)).Call(x);
        x = new Activation("gelu", "gelu").Call(x);
        x = new LayerNormalization("ln", center: false).Call(x);
        x = new PReLU("prelu").Call(x);
        x = new MaxPooling2D("pool", 3).Call(x);
        x = new Reshape("reshape", 16, 6, 2).Call(x);
        x = new Activation("softplus", "softplus").Call(x);
        x = new Flatten("flatten").Call(x);
        x = new Dense("out", 4, ActivationFunction.Softmax).Call(x);
        using var model = new Model("deconv_cnn", input, x);
        int seed = 500;
        foreach (var weight in model.Weights)
            TestData.Uniform(++seed, weight.Value.Length, weight.Name == "gamma" ? 0.5f : -0.6f, weight.Name == "gamma" ? 1.5f : 0.6f).CopyTo(weight.Value.Span);
        var (xs, labels) = Batch(model, batch: 2);
        string reference = RunTorch(model, xs, labels);

        using var backend = new CpuBackend(2);
        using var plan = new TrainingPlan(model, backend, 2, new SparseCategoricalCrossentropy());
        float loss = plan.ComputeGradients(xs, labels);
        Assert.Equal(ReadNpy(Path.Combine(reference, "loss.npy"))[0], loss, 2e-5f);
        double worst = 0;
        foreach (string name in plan.Gradients.Names)
            worst = Math.Max(worst, AssertClose(ReadNpy(Path.Combine(reference, name.Replace("/", "__", StringComparison.Ordinal) + ".npy")),
                                                plan.Gradients[name], name, 1e-5));
        output.WriteLine($"worst {worst:E2}");
    }

    [Fact]
    public void AStepOfAModelOfTheNewerLayersAllocatesNothing()
    {
        using var model = BreadthCnn();
        var (x, labels) = Batch(model, batch: 2);
        using var backend = new CpuBackend(1);
        using var plan = new TrainingPlan(model, backend, 2, new SparseCategoricalCrossentropy(), new Sgd(0.01f, momentum: 0.9));
        plan.Step(x, labels);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int step = 0; step < 3; step++) plan.Step(x, labels);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"three steps allocated {allocated} bytes");
    }

    [Fact]
    public void FitLowersTheLossOfAModelOfTheNewerLayers()
    {
        using var model = BreadthCnn(classes: 2);
        // Two classes of 8x6 images: brighter in the top half, or in the bottom half.
        var random = new Random(11);
        int count = 48, pixels = 8 * 6 * 3;
        var inputs = new float[count * pixels];
        var classes = new int[count];
        for (int n = 0; n < count; n++)
        {
            classes[n] = n % 2;
            for (int i = 0; i < pixels; i++)
                inputs[n * pixels + i] = 0.5f * random.NextSingle() + ((i / (6 * 3) < 4) == (classes[n] == 0) ? 0.8f : 0f);
        }
        var data = new ArrayDataset(inputs, [8, 6, 3], classes);
        using var compiled = model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), ["accuracy"]);
        var history = compiled.Fit(data, epochs: 8, batchSize: 8, seed: 3);
        foreach (var epoch in history.Epochs) output.WriteLine(epoch.ToString());
        Assert.True(history["loss"][^1] < 0.7 * history["loss"][0], $"the loss falls: {history["loss"][0]} -> {history["loss"][^1]}");
    }

    [ReferenceFact(ExternalReference.PyTorch)]
    public void AFrozenStemGetsNoGradientAndItsBatchNormalizationRunsAsAtInference()
    {
        using var model = SmallCnn();
        model.GetLayer("conv1").Trainable = false;
        model.GetLayer("bn1").Trainable = false;
        var (x, labels) = Batch(model, batch: 2);
        var movingMean = model.GetLayer("bn1").GetWeight("moving_mean").Value.ToArray();
        string reference = RunTorch(model, x, labels, "conv1", "bn1");

        using var backend = new CpuBackend(2);
        using var plan = new TrainingPlan(model, backend, 2, new SparseCategoricalCrossentropy());
        float loss = plan.ComputeGradients(x, labels);
        Assert.Equal(ReadNpy(Path.Combine(reference, "loss.npy"))[0], loss, 4e-5f);
        Assert.DoesNotContain("conv1/kernel", plan.Gradients.Names);
        Assert.DoesNotContain("bn1/gamma", plan.Gradients.Names);
        var e = Assert.Throws<KeyNotFoundException>(() => plan.Gradients.Get("bn1/gamma"));
        Assert.Contains("not trained", e.Message);
        foreach (string name in plan.Gradients.Names)
            AssertClose(ReadNpy(Path.Combine(reference, name.Replace("/", "__", StringComparison.Ordinal) + ".npy")), plan.Gradients[name], name);
        Assert.Equal(movingMean, model.GetLayer("bn1").GetWeight("moving_mean").Value.ToArray());
        // Nothing before the stem is trained: no gradient flows into it, and none is computed.
        Assert.Throws<KeyNotFoundException>(() => plan.GetActivationGradient("bn1"));
        Assert.Equal(model.ParameterCount - model.TrainableParameterCount,
                     model.GetLayer("conv1").ParameterCount + model.GetLayer("bn1").ParameterCount + 2 * 8);
    }

    [Fact]
    public void SgdStepsLowerTheLossAndATrainedModelPredictsWhatThePlanComputes()
    {
        using var model = SmallCnn();
        var (x, labels) = Batch(model, batch: 4);
        using var backend = new CpuBackend(2);
        using var plan = new TrainingPlan(model, backend, 4, new SparseCategoricalCrossentropy(), new Sgd(0.05f, momentum: 0.9));
        float first = plan.Step(x, labels);
        float last = first;
        for (int step = 0; step < 30; step++) last = plan.Step(x, labels);
        output.WriteLine($"loss {first:F4} -> {last:F4}");
        Assert.True(last < first * 0.5f, $"30 SGD steps on one batch should overfit it: {first} -> {last}");

        // Inference mode of the plan (moving statistics) is the model's own Predict.
        plan.Forward(x, training: false, default, out var planOutput);
        using var predicted = model.Predict(Tensor.FromArray(x, model.Input.OutputShape.WithBatch(4)));
        AssertClose(predicted.ToArray(), planOutput, "inference-mode forward vs Predict", 1e-5);
    }

    [Fact]
    public void TheSameStepsGiveTheSameWeightsAndAPlanWithoutAnOptimizerOnlyComputesGradients()
    {
        float[] Train()
        {
            using var model = SmallCnn();
            var (x, labels) = Batch(model, batch: 2);
            using var backend = new CpuBackend(2);
            using var plan = new TrainingPlan(model, backend, 2, new SparseCategoricalCrossentropy(), new Adam(0.01f));
            for (int step = 0; step < 3; step++) plan.Step(x, labels);
            return [.. model.Weights.SelectMany(w => w.Value.ToArray())];
        }
        Assert.Equal(Train(), Train());

        using var shared = SmallCnn();
        var (xs, ys) = Batch(shared, batch: 2);
        using var cpu = new CpuBackend(1);
        using var gradientsOnly = new TrainingPlan(shared, cpu, 2, new SparseCategoricalCrossentropy());
        Assert.Throws<InvalidOperationException>(() => gradientsOnly.Step(xs, ys));
        var error = Assert.Throws<ArgumentException>(() => gradientsOnly.ComputeGradients(xs, ys.AsSpan(0, 1)));
        Assert.Contains("expected 2 targets", error.Message);
    }

    [Fact]
    public void GradientsSharingBuffersByLivenessGiveTheSameStepsAsOneBufferPerLayerInLessMemory()
    {
        (float[] Weights, float[] InputGradient, long BufferBytes) Train(bool keepActivationGradients)
        {
            using var model = SmallCnn();
            var (x, labels) = Batch(model, batch: 3);
            using var backend = new CpuBackend(2);
            using var plan = new TrainingPlan(model, backend, 3, new SparseCategoricalCrossentropy(), new Sgd(0.05f, momentum: 0.9),
                                              keepActivationGradients: keepActivationGradients);
            for (int step = 0; step < 3; step++) plan.Step(x, labels);
            // conv1 runs backward last: its output gradient is never overwritten, shared or not.
            return ([.. model.Weights.SelectMany(w => w.Value.ToArray())], plan.GetActivationGradient("conv1"), plan.BufferBytes);
        }
        var separate = Train(keepActivationGradients: true);
        var shared = Train(keepActivationGradients: false);
        Assert.Equal(separate.Weights, shared.Weights);
        Assert.Equal(separate.InputGradient, shared.InputGradient);
        output.WriteLine($"plan buffers: {shared.BufferBytes} bytes shared, {separate.BufferBytes} with one gradient per layer");
        Assert.True(shared.BufferBytes < separate.BufferBytes, $"{shared.BufferBytes} vs {separate.BufferBytes}");

        using var model = SmallCnn();
        var (xs, ys) = Batch(model, batch: 3);
        using var cpu = new CpuBackend(1);
        using var sharing = new TrainingPlan(model, cpu, 3, new SparseCategoricalCrossentropy());
        sharing.ComputeGradients(xs, ys);
        var reused = Assert.Throws<InvalidOperationException>(() => sharing.GetActivationGradient("out"));
        Assert.Contains("keepActivationGradients", reused.Message);
        using var keeping = new TrainingPlan(model, cpu, 3, new SparseCategoricalCrossentropy(), keepActivationGradients: true);
        keeping.ComputeGradients(xs, ys);
        Assert.Equal(3 * 5, keeping.GetActivationGradient("out").Length);
    }

    public static TheoryData<string> SharingModels => ["small_cnn", "breadth_cnn", "mobilenetv2", "efficientnet-b0"];

    /// <summary>
    /// Layer outputs released after their last forward or backward reader (their memory then holding later outputs and
    /// gradients) give bit for bit the losses, gradients, moving statistics and weights of a plan that keeps every
    /// output and every gradient in a buffer of its own, in less memory; a reused output says so when read.
    /// </summary>
    [Theory]
    [MemberData(nameof(SharingModels))]
    public void ReleasingLayerOutputsAfterTheirLastReaderGivesBitIdenticalStepsToKeepingEverything(string arch)
    {
        Model Build() => arch switch
        {
            "small_cnn" => SmallCnn(),
            "breadth_cnn" => BreadthCnn(),
            _ => NativeCnn.Models.Architectures.ModelZoo.Create(arch, new NativeCnn.Models.Architectures.ApplicationOptions
              { Alpha = arch == "mobilenetv2" ? 0.35 : 1.0, Resolution = 48, Classes = 5 }),
        };
        using var reference = Build();
        int batch = 3;
        var x = TestData.Uniform(41, checked((int)reference.Input.OutputShape.WithBatch(batch).ElementCount), 0f, arch.EndsWith("_cnn", StringComparison.Ordinal) ? 1f : 255f);
        float[] labels = [1, 4, 0];
        (float[] Losses, float[] Gradients, float[] Weights, long BufferBytes) Train(bool keep, out Model model)
        {
            model = Build();
            foreach (var (to, from) in model.Weights.Zip(reference.Weights)) from.Value.Span.CopyTo(to.Value.Span);
            using var backend = new CpuBackend(2);
            using var plan = new TrainingPlan(model, backend, batch, new SparseCategoricalCrossentropy(), new Sgd(0.05f, momentum: 0.9),
                                              keepActivationGradients: keep, keepActivations: keep);
            var losses = new float[3];
            for (int step = 0; step < losses.Length; step++) losses[step] = plan.Step(x, labels);
            float[] gradients = [.. plan.Gradients.Names.SelectMany(n => plan.Gradients[n].ToArray())];
            plan.ComputeGradients(x, labels);
            int unreadable = 0;
            foreach (var node in model.Nodes)
            {
                try
                {
                    plan.GetActivation(node.Name);
                }
                catch (InvalidOperationException e)
                {
                    Assert.Contains("keepActivations", e.Message);
                    unreadable++;
                }
            }
            Assert.True(keep ? unreadable == 0 : unreadable > 0, $"{unreadable} layer outputs unreadable (kept: {keep})");
            Assert.Equal(plan.OutputShape.ElementCount, plan.GetActivation(model.Output.Name).Length);
            Assert.Equal(x, plan.GetActivation(model.Input.Name));
            return (losses, [.. gradients, .. plan.Gradients.Names.SelectMany(n => plan.Gradients[n].ToArray())], [.. model.Weights.SelectMany(w => w.Value.ToArray())], plan.BufferBytes);
        }
        var kept = Train(keep: true, out var keptModel);
        var shared = Train(keep: false, out var sharedModel);
        keptModel.Dispose();
        sharedModel.Dispose();
        Assert.Equal(kept.Losses, shared.Losses);
        Assert.True(kept.Gradients.AsSpan().SequenceEqual(shared.Gradients), "gradients differ");
        Assert.True(kept.Weights.AsSpan().SequenceEqual(shared.Weights), "weights or moving statistics differ");
        output.WriteLine($"{arch}: plan buffers {shared.BufferBytes} bytes shared, {kept.BufferBytes} with everything kept");
        Assert.True(shared.BufferBytes < kept.BufferBytes * 0.7, $"{shared.BufferBytes} vs {kept.BufferBytes}");
    }
}

/// <summary>
/// The allocation count of steady-state training steps. It counts every thread's managed allocations, so it runs in the
/// collection that runs alone: a test running beside it would allocate into the count.
/// </summary>
[Collection(NativeCnn.Tests.Weights.NativeMemoryCollection.Name)]
public sealed class TrainingPlanAllocationTests
{
    [Fact]
    public void SteadyStateStepsAllocateNoManagedMemoryOnAnyThreadAndTimeEveryLayer()
    {
        using var model = TrainingPlanTests.SmallCnn();
        var (x, labels) = TrainingPlanTests.Batch(model, batch: 4);
        using var backend = new CpuBackend(2);
        using var plan = new TrainingPlan(model, backend, 4, new SparseCategoricalCrossentropy(), new Adam(0.01f));
        plan.TimesLayers = true;
        for (int step = 0; step < 3; step++) plan.Step(x, labels);
        // The steps run on this thread and the backend's worker threads: count every thread's allocations.
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int step = 0; step < 5; step++) plan.Step(x, labels);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(0, allocated);

        var times = plan.LayerTimes;
        Assert.Equal(model.Nodes.Count - 1, times.Count);
        Assert.All(times, t => Assert.True(t.ForwardMilliseconds > 0, $"{t.Layer}: no forward time"));
        Assert.True(times.Single(t => t.Layer == "conv1").BackwardMilliseconds > 0);
    }
}

/// <summary>Whole-model gradients of a zoo model against PyTorch float64 autograd.</summary>
public sealed class ZooGradientTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-zoo-gradients-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [ReferenceFact(ExternalReference.PyTorch)]
    public void MobileNetV2AtSixtyFourPixelsMatchesPyTorchAutograd()
    {
        using var model = NativeCnn.Models.Architectures.ModelZoo.Create("mobilenetv2",
            new NativeCnn.Models.Architectures.ApplicationOptions { Alpha = 0.35, Resolution = 64, Classes = 7 });
        PerturbNormalizations(model);
        // 64 pixels and 3 images leave 12 values per channel for the last BatchNormalizations' batch statistics: at 32
        // pixels and 2 images they normalize pairs, where float32 rounding decides signs.
        CompareWithPyTorch(model, TestData.Uniform(5, 3 * 64 * 64 * 3, -1f, 1f), [1, 5, 2], 64);
    }

    [ReferenceFact(ExternalReference.PyTorch)]
    public void EfficientNetB0WithDropConnectMatchesPyTorchAutograd()
    {
        using var model = NativeCnn.Models.Architectures.ModelZoo.Create("efficientnet-b0",
            new NativeCnn.Models.Architectures.ApplicationOptions { Resolution = 64, Classes = 7 });
        PerturbNormalizations(model);
        // Drop-connect (Dropout with noise_shape (None, 1, 1, 1)) and the top Dropout draw their masks here; PyTorch
        // gets the same masks, read back from the plan's activations.
        int dropped = CompareWithPyTorch(model, TestData.Uniform(6, 3 * 64 * 64 * 3, 0f, 255f), [4, 0, 6], 64);
        Assert.True(dropped > 0, "no drop-connect layer dropped an image, so the masks were not exercised");
    }

    // Keras's own initializers (Glorot kernels) as a model built for training starts; gamma and beta perturbed.
    private static void PerturbNormalizations(Model model)
    {
        int seed = 300;
        foreach (var weight in model.Weights.Where(w => w.Name is "gamma" or "beta"))
        {
            var values = TestData.Uniform(++seed, weight.Value.Length, -0.2f, 0.2f);
            var span = weight.Value.Span;
            for (int i = 0; i < span.Length; i++) span[i] += values[i];
        }
    }

    /// <summary>One gradient computation here and in PyTorch; returns how many images drop-connect dropped.</summary>
    private int CompareWithPyTorch(Model model, float[] x, float[] labels, int size)
    {
        int batch = labels.Length;
        using var backend = new CpuBackend(2);
        // The dropout masks are recovered from layer outputs, so every one is kept readable.
        using var plan = new TrainingPlan(model, backend, batch, new SparseCategoricalCrossentropy(), keepActivations: true);
        float loss = plan.ComputeGradients(x, labels);

        File.WriteAllText(Path.Combine(_work, "config.json"), KerasModelConfig.ToJson(model));
        Directory.CreateDirectory(Path.Combine(_work, "weights"));
        foreach (var weight in model.Weights)
            NpyFile.Write(Path.Combine(_work, "weights", $"{weight.Layer.Name}__{weight.Name}.npy"), weight.Value);
        NpyFile.Write(Path.Combine(_work, "x.npy"), x, TensorShape.Nhwc(batch, size, size, 3));
        NpyFile.Write(Path.Combine(_work, "y.npy"), labels, new TensorShape(batch));
        int dropped = WriteDropoutMasks(model, plan, batch);
        string script = Path.Combine(TestPaths.RepositoryRoot, "tests", "reference", "torch", "model_gradients.py");
        TestProcess.Run("/usr/bin/python3", [script, _work], _work, TimeSpan.FromMinutes(3));

        using var expectedLoss = NpyFile.Read(Path.Combine(_work, "out", "loss.npy"));
        Assert.Equal(expectedLoss.Span[0], loss, 1e-4f);
        var expected = plan.Gradients.Names.ToDictionary(n => n, n =>
        {
            using var tensor = NpyFile.Read(Path.Combine(_work, "out", n.Replace("/", "__", StringComparison.Ordinal) + ".npy"));
            return tensor.ToArray();
        });
        // A beta followed (through a convolution) by a training-mode BatchNormalization has an exactly zero gradient;
        // float32 leaves rounding there, so errors are relative to at least a ten-thousandth of the largest gradient.
        double floor = 1e-4 * expected.Values.Max(v => v.Max(Math.Abs));
        double worstOverall = 0;
        foreach (var (name, e) in expected)
        {
            var a = plan.Gradients[name];
            double scale = Math.Max(floor, e.Max(Math.Abs)), worst = 0;
            for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(e[i] - a[i]) / scale);
            worstOverall = Math.Max(worstOverall, worst);
            Assert.True(worst <= 5e-4, $"{name}: max error {worst:E3} of {scale:G3}");
        }
        output.WriteLine($"{model.Name}: {plan.Gradients.Names.Count()} gradients, worst relative error {worstOverall:E2}, {dropped} images drop-connected");
        return dropped;
    }

    // Each Dropout's mask, recovered from its input and output activations: 0 where dropped, 1/(1 - rate) where kept.
    private int WriteDropoutMasks(Model model, TrainingPlan plan, int batch)
    {
        int droppedImages = 0;
        Directory.CreateDirectory(Path.Combine(_work, "masks"));
        foreach (var node in model.Nodes.Where(n => n.Layer is Dropout))
        {
            var dropout = (Dropout)node.Layer;
            float[] input = plan.GetActivation(node.Inputs[0].Name), outputs = plan.GetActivation(node.Name);
            float keep = (float)(1 / (1 - dropout.Rate));
            if (dropout.NoiseShapeIsPerSample)
            {
                int perImage = input.Length / batch;
                var mask = new float[batch];
                for (int n = 0; n < batch; n++)
                {
                    bool kept = Enumerable.Range(n * perImage, perImage).Any(i => outputs[i] != 0);
                    mask[n] = kept ? keep : 0;
                    if (!kept) droppedImages++;
                }
                NpyFile.Write(Path.Combine(_work, "masks", node.Name + ".npy"), mask, TensorShape.Nhwc(batch, 1, 1, 1));
            }
            else
            {
                var mask = outputs.Select(v => v == 0 ? 0f : keep).ToArray();
                NpyFile.Write(Path.Combine(_work, "masks", node.Name + ".npy"), mask, node.OutputShape.WithBatch(batch));
            }
        }
        return droppedImages;
    }
}
