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

    private (float[] X, float[] Labels) Batch(Model model, int batch)
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
}
