using System.Text.Json;
using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Tests.Models;
using NativeCnn.Training;
using NativeCnn.Weights.Keras;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Training;

/// <summary>
/// <see cref="CompiledModel.Fit"/> against TensorFlow.js's <c>model.fit</c> on the same config, weights and batches
/// (no shuffling, a short last batch): every weight after two epochs, BatchNormalization's moving statistics included,
/// and the epoch losses and accuracies TensorFlow.js reports. TensorFlow.js is an independent implementation of
/// Keras's training semantics (batch statistics, the moving-average rule, sample-weighted epoch means).
/// </summary>
public sealed class FitTensorFlowJsTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-fit-tfjs-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static Model SmallCnn()
    {
        var input = Node.Input(8, 7, 2, "image");
        // No bias before a training-mode BatchNormalization: its gradient is zero but for rounding, which Adam would amplify.
        var x = new Conv2D("conv1", 6, 3, padding: Padding.Same, useBias: false).Call(input);
        x = new BatchNormalization("bn1").Call(x);
        x = new ReLU("relu1").Call(x);
        x = new MaxPooling2D("pool", 2).Call(x);
        x = new Conv2D("conv2", 5, 3, strides: 2, padding: Padding.Same, activation: ActivationFunction.Swish).Call(x);
        x = new BatchNormalization("bn2", momentum: 0.9).Call(x);
        x = new GlobalAveragePooling2D("gap").Call(x);
        x = new Dense("predictions", 3, ActivationFunction.Softmax).Call(x);
        return new Model("small_cnn", input, x);
    }

    [ReferenceTheory(ExternalReference.TensorFlowJs)]
    [InlineData("sgd", 0.05, 0.9)]
    [InlineData("adam", 0.01, 0.0)]
    public void TwoEpochsMatchTensorFlowJsModelFit(string optimizerName, double learningRate, double momentum)
    {
        const int count = 40, batchSize = 16, epochs = 2; // batches of 16, 16 and 8
        using var model = SmallCnn();
        var x = TestData.Uniform(21, count * 8 * 7 * 2, -1f, 1f);
        var labels = Enumerable.Range(0, count).Select(i => (float)(i * 7 % 3)).ToArray();
        // A learnable signal: class c raises channel 0 in row c.
        for (int n = 0; n < count; n++)
            for (int w = 0; w < 7; w++) x[((n * 8 + (int)labels[n] * 2) * 7 + w) * 2] += 1.5f;

        File.WriteAllText(Path.Combine(_work, "config.json"), KerasModelConfig.ToJson(model));
        Directory.CreateDirectory(Path.Combine(_work, "weights"));
        foreach (var weight in model.Weights)
            NpyFile.Write(Path.Combine(_work, "weights", $"{weight.Layer.Name}__{weight.Name}.npy"), weight.Value);
        NpyFile.Write(Path.Combine(_work, "x.npy"), x, TensorShape.Nhwc(count, 8, 7, 2));
        NpyFile.Write(Path.Combine(_work, "y.npy"), labels, new TensorShape(count));
        string outDir = Path.Combine(_work, "out");
        TensorFlowJsReference.Run("fit-model.mjs", "--config", Path.Combine(_work, "config.json"), "--weights", Path.Combine(_work, "weights"),
            "--x", Path.Combine(_work, "x.npy"), "--y", Path.Combine(_work, "y.npy"), "--epochs", $"{epochs}", "--batch-size", $"{batchSize}",
            "--optimizer", optimizerName, "--learning-rate", $"{learningRate}", "--momentum", $"{momentum}", "--epsilon", "1e-10", "--out", outDir);

        // TensorFlow.js's Adam puts epsilon after the bias correction, Keras's before it (ε̂ = ε·sqrt(1 − β₂ᵗ)); with
        // ε = 1e-10 on both sides the two forms agree to float32 rounding, and the rest of the step is compared.
        Optimizer optimizer = optimizerName == "sgd" ? new Sgd((float)learningRate, momentum) : new Adam((float)learningRate, epsilon: 1e-10);
        using var compiled = model.Compile(optimizer, new SparseCategoricalCrossentropy(), ["accuracy"]);
        var history = compiled.Fit(new ArrayDataset(x, [8, 7, 2], labels, 1), epochs, batchSize, shuffle: false);

        using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "history.json")));
        for (int e = 0; e < epochs; e++)
        {
            double expectedLoss = reference.RootElement.GetProperty("loss")[e].GetDouble();
            double expectedAccuracy = reference.RootElement.GetProperty("acc")[e].GetDouble();
            output.WriteLine($"epoch {e + 1}: loss {history.Epochs[e]["loss"]:F6} (TF.js {expectedLoss:F6}), accuracy {history.Epochs[e]["accuracy"]:F4} (TF.js {expectedAccuracy:F4})");
            Assert.Equal(expectedLoss, history.Epochs[e]["loss"], 2e-4);
            Assert.Equal(expectedAccuracy, history.Epochs[e]["accuracy"], 1e-6);
        }
        Assert.True(history.Epochs[1]["loss"] < history.Epochs[0]["loss"], "the loss did not fall");
        double worstOverall = 0;
        foreach (var weight in model.Weights)
        {
            using var expected = NpyFile.Read(Path.Combine(outDir, $"{weight.Layer.Name}__{weight.Name}.npy"));
            var e = expected.Span;
            var a = weight.Value.Span;
            double scale = Math.Max(1e-3, TensorPrimitivesMaxAbs(e)), worst = 0;
            for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(e[i] - a[i]) / scale);
            worstOverall = Math.Max(worstOverall, worst);
            Assert.True(worst <= 2e-4, $"{weight.Layer.Name}/{weight.Name}: max error {worst:E3} of {scale:G3}");
        }
        output.WriteLine($"{optimizerName}: {model.Weights.Count()} weights after {epochs} epochs, worst relative error {worstOverall:E2}");
    }

    private static double TensorPrimitivesMaxAbs(ReadOnlySpan<float> values)
    {
        double max = 0;
        foreach (float v in values) max = Math.Max(max, Math.Abs(v));
        return max;
    }
}
