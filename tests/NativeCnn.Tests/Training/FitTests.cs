using System.Text.Json;
using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Training;
using NativeCnn.Weights;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Training;

/// <summary>Keras's <c>fit</c>/<c>evaluate</c> loop, its callbacks, dropout in training mode, and the Train command line.</summary>
public sealed class FitTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("nativecnn-fit-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    // Two separable classes of 6x6x1 images: a bright square in the top-left or in the bottom-right corner, with noise.
    private static ArrayDataset Corners(int count, int seed)
    {
        var random = new Random(seed);
        var inputs = new float[count * 36];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            labels[n] = n % 2;
            for (int i = 0; i < 36; i++) inputs[n * 36 + i] = 0.3f * random.NextSingle();
            int offset = labels[n] == 0 ? 0 : 3;
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 3; x++) inputs[n * 36 + (y + offset) * 6 + x + offset] += 1f;
        }
        return new ArrayDataset(inputs, [6, 6, 1], labels);
    }

    private static Model CornerModel(bool dropout = true)
    {
        var input = Node.Input(6, 6, 1, "image");
        var x = new Conv2D("conv", 4, 3, padding: Padding.Same, activation: ActivationFunction.Relu).Call(input);
        x = new BatchNormalization("bn").Call(x);
        x = new MaxPooling2D("pool", 2).Call(x);
        x = new Flatten("flatten").Call(x);
        if (dropout) x = new Dropout("dropout", 0.2).Call(x);
        x = new Dense("out", 2, ActivationFunction.Softmax).Call(x);
        return new Model("corners", input, x);
    }

    [Fact]
    public void TheFashionMnistExampleHasItsDocumentedShape()
    {
        using var model = ExampleModels.FashionMnistCnn();
        Assert.Equal(824_746, model.ParameterCount);
        Assert.Equal(new TensorShape(1, 10), model.Output.OutputShape);
        // BatchNormalization's moving statistics are the only weights no optimizer touches.
        Assert.Equal(824_746 - 2 * (32 + 64), model.TrainableParameterCount);
    }

    [Fact]
    public void FitLearnsASeparableProblemAndReportsKerasLogs()
    {
        using var model = CornerModel();
        var (train, validation) = Corners(200, seed: 1).Split(0.25);
        Assert.Equal(150, train.Count);
        using var compiled = model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), ["accuracy"]);
        var reported = new List<EpochMetrics>();
        var history = compiled.Fit(train, epochs: 6, batchSize: 16, validationData: validation, progress: new Collect(reported));
        foreach (var epoch in history.Epochs) output.WriteLine(epoch.ToString());
        Assert.Equal(6, history.Epochs.Count);
        Assert.Equal(history.Epochs, reported);
        Assert.Equal(["loss", "accuracy", "val_loss", "val_accuracy"], history.Epochs[0].Values.Keys);
        Assert.True(history["loss"][^1] < history["loss"][0], "the training loss falls");
        Assert.True(history["val_accuracy"][^1] >= 0.95, $"val_accuracy {history["val_accuracy"][^1]}");
        // Evaluate is the validation of the last epoch: the same data in inference mode, no weight change.
        var evaluated = compiled.Evaluate(validation, batchSize: 7);
        Assert.Equal(history["val_loss"][^1], evaluated["loss"], 1e-5);
        Assert.Equal(history["val_accuracy"][^1], evaluated["accuracy"], 1e-9);
        // 150 samples in batches of 16: ten steps per epoch, the last one short.
        Assert.Equal(60, compiled.Optimizer.Iterations);
    }

    [Fact]
    public void ATrainedModelSavesAndLoadsBitIdenticallyAndPredictsTheSame()
    {
        using var model = CornerModel();
        using (var compiled = model.Compile(new Sgd(0.05f, momentum: 0.9), new SparseCategoricalCrossentropy()))
            compiled.Fit(Corners(64, seed: 2), epochs: 2, batchSize: 8);
        string file = Path.Combine(_work, "trained.safetensors");
        ModelFile.Save(model, file);
        using var loaded = ModelFile.Load(file);
        foreach (var weight in model.Weights)
            Assert.Equal(weight.Value.ToArray(), loaded.GetLayer(weight.Layer.Name).GetWeight(weight.Name).Value.ToArray());
        var data = Corners(5, seed: 3);
        using var x = Tensor.FromArray(data.Inputs.Span, TensorShape.Nhwc(5, 6, 6, 1));
        using var a = model.Predict(x);
        using var b = loaded.Predict(x);
        Assert.Equal(a.ToArray(), b.ToArray());
        // The moving statistics moved during training and were saved with the weights.
        Assert.NotEqual(new float[4], model.GetLayer("bn").GetWeight("moving_mean").Value.ToArray());
    }

    [Fact]
    public void EarlyStoppingStopsAfterThePatienceAndRestoresTheBestWeights()
    {
        using var model = CornerModel(dropout: false);
        var data = Corners(48, seed: 4);
        // A learning rate of zero without dropout repeats the first epoch's loss exactly: no later epoch improves on it.
        using var compiled = model.Compile(new Sgd(0f), new SparseCategoricalCrossentropy());
        var stopping = new EarlyStopping("loss", patience: 2, restoreBestWeights: true);
        var checkpoint = new ModelCheckpoint(Path.Combine(_work, "ckpt-{epoch}.safetensors"), "loss", saveBestOnly: true);
        var firstEpoch = new Snapshot("bn", "moving_mean");
        var history = compiled.Fit(data, epochs: 10, batchSize: 16, callbacks: [firstEpoch, stopping, checkpoint], shuffle: false);
        Assert.Equal(3, history.Epochs.Count);
        // The moving statistics moved on in epochs 2 and 3; the best epoch's are back.
        Assert.Equal(firstEpoch.Values, model.GetLayer("bn").GetWeight("moving_mean").Value.ToArray());
        Assert.Equal(2, stopping.StoppedEpoch);
        Assert.True(File.Exists(Path.Combine(_work, "ckpt-1.safetensors")));
        Assert.False(File.Exists(Path.Combine(_work, "ckpt-2.safetensors")), "no improvement, no checkpoint");
    }

    [Fact]
    public void ReduceLROnPlateauCutsAConstantRateAfterThePatience()
    {
        using var model = CornerModel();
        using var compiled = model.Compile(new Sgd(0.1f), new SparseCategoricalCrossentropy());
        // A minimum improvement of 10 is never met after the first epoch: a plateau from epoch 2 on.
        var reduce = new ReduceLROnPlateau("loss", factor: 0.5, patience: 1, minDelta: 10);
        var history = compiled.Fit(Corners(16, seed: 5), epochs: 3, batchSize: 16, callbacks: [reduce], shuffle: false);
        // Each epoch logs the rate it trained at; the cut after epoch 2 shows in epoch 3, the next in the optimizer.
        Assert.Equal([0.1f, 0.1f, 0.05f], history.Epochs.Select(e => e.LearningRate).ToArray());
        Assert.Equal(0.025f, compiled.Optimizer.CurrentLearningRate);
    }

    [Fact]
    public void DropoutDropsAboutItsRateScalesTheRestAndIsTheIdentityAtInference()
    {
        var input = Node.Input(1, 1, 4000, "x");
        var y = new Dropout("drop", 0.25).Call(input);
        using var model = new Model("dropout", input, y);
        using var backend = new NativeCnn.Backends.Cpu.CpuBackend(1);
        using var plan = new TrainingPlan(model, backend, 2, new MeanSquaredError());
        var x = Enumerable.Repeat(1f, 8000).ToArray();
        plan.Forward(x, training: true, default, out var trained);
        var kept = trained.ToArray();
        double dropped = kept.Count(v => v == 0) / 8000.0;
        output.WriteLine($"dropped {dropped:P2}");
        Assert.InRange(dropped, 0.23, 0.27);
        Assert.All(kept, v => Assert.True(v == 0 || v == 1f / 0.75f, $"{v}"));
        plan.Forward(x, training: true, default, out var again);
        Assert.NotEqual(kept, again.ToArray()); // a fresh mask each step
        plan.Forward(x, training: false, default, out var inference);
        Assert.All(inference.ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void TrainTrainsANpyDatasetAndWritesJsonAndAModelFile()
    {
        using (var model = CornerModel())
        {
            foreach (var weight in model.Weights.Where(w => w.Name == "kernel")) TestData.Uniform(9, weight.Value.Length, -0.3f, 0.3f).CopyTo(weight.Value.Span);
            ModelFile.Save(model, Path.Combine(_work, "corners.safetensors"));
        }
        var data = Corners(96, seed: 6);
        NpyFile.Write(Path.Combine(_work, "x.npy"), data.Inputs.Span, TensorShape.Nhwc(96, 6, 6, 1));
        NpyFile.Write(Path.Combine(_work, "y.npy"), data.Targets.Span, new TensorShape(96));
        string trained = Path.Combine(_work, "trained.safetensors");
        var result = CommandLineTool.Train.Run(["--model", Path.Combine(_work, "corners.safetensors"), "--x", Path.Combine(_work, "x.npy"),
            "--y", Path.Combine(_work, "y.npy"), "--optimizer", "sgd", "--learning-rate", "0.05", "--momentum", "0.9", "--batch-size", "16",
            "--epochs", "3", "--validation-split", "0.25", "--freeze-until", "bn", "--output", trained, "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var epochs = json.RootElement.GetProperty("epochs");
        Assert.Equal(3, epochs.GetArrayLength());
        Assert.True(epochs[2].GetProperty("val_accuracy").GetDouble() >= 0.0);
        // conv and bn frozen: the trainable parameters are the dense head's.
        Assert.Equal(36 * 2 + 2, json.RootElement.GetProperty("trainable_parameters").GetInt64());
        using var loaded = ModelFile.Load(trained);
        using var original = ModelFile.Load(Path.Combine(_work, "corners.safetensors"));
        Assert.Equal(original.GetLayer("conv").GetWeight("kernel").Value.ToArray(), loaded.GetLayer("conv").GetWeight("kernel").Value.ToArray());
        Assert.NotEqual(original.GetLayer("out").GetWeight("kernel").Value.ToArray(), loaded.GetLayer("out").GetWeight("kernel").Value.ToArray());

        var usage = CommandLineTool.Train.Run(["--x", Path.Combine(_work, "x.npy")]);
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("--y", usage.Stderr);
    }

    [Fact]
    public void FitTrainsOnRandomCropsAndTrainCropsFlipsAndCentersItsValidation()
    {
        // 8x8 samples with the corner squares shifted by up to 2 pixels: crops of 6x6 feed the 6x6 model.
        var wide = Corners(64, seed: 12);
        var inputs = new float[64 * 64];
        var source = wide.Inputs.Span;
        for (int n = 0; n < 64; n++)
            for (int y = 0; y < 6; y++)
                for (int x = 0; x < 6; x++) inputs[n * 64 + (y + 1) * 8 + x + 1] = source[n * 36 + y * 6 + x];
        var data = new ArrayDataset(inputs, [8, 8, 1], wide.Targets, 1);
        using var model = CornerModel(dropout: false);
        using var compiled = model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(), ["accuracy"]);
        var history = compiled.Fit(data, epochs: 3, batchSize: 16, validationData: data.CenterCrop(6, 6), seed: 5,
                                   randomHorizontalFlip: true, randomCrop: new CropSize(6, 6));
        Assert.Equal(3, history.Epochs.Count);
        Assert.True(history.Epochs[2].Values["loss"] < history.Epochs[0].Values["loss"], "the loss falls over the epochs");
        Assert.Contains("val_accuracy", history.Epochs[2].Values.Keys);
        var wrong = Assert.Throws<ArgumentException>(() => compiled.Fit(data, randomCrop: new CropSize(5, 5)));
        Assert.Contains("25 per sample", wrong.Message);
        Assert.Throws<ArgumentException>(() => compiled.Fit(data)); // 8x8 samples without the crop

        using (var saved = CornerModel())
            ModelFile.Save(saved, Path.Combine(_work, "corners.safetensors"));
        NpyFile.Write(Path.Combine(_work, "x.npy"), inputs, TensorShape.Nhwc(64, 8, 8, 1));
        NpyFile.Write(Path.Combine(_work, "y.npy"), data.Targets.Span, new TensorShape(64));
        string[] common = ["--model", Path.Combine(_work, "corners.safetensors"), "--x", Path.Combine(_work, "x.npy"), "--y", Path.Combine(_work, "y.npy")];
        var result = CommandLineTool.Train.Run([.. common, "--random-crop", "--random-flip", "--validation-split", "0.25", "--epochs", "2",
            "--batch-size", "16", "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(2, json.RootElement.GetProperty("epochs").GetArrayLength());
        Assert.True(json.RootElement.GetProperty("epochs")[1].TryGetProperty("val_loss", out _));
        var uncropped = CommandLineTool.Train.Run([.. common, "--epochs", "1"]);
        Assert.True(uncropped.ExitCode != 0 && uncropped.Stderr.Contains("64 per sample", StringComparison.Ordinal), uncropped.Stderr);
        var imageSize = CommandLineTool.Train.Run([.. common, "--image-size", "8"]);
        Assert.True(imageSize.ExitCode == 2 && imageSize.Stderr.Contains("--images", StringComparison.Ordinal), imageSize.Stderr);
    }

    [Fact]
    public void TrainReplacesTheClassifierFreezesTheBaseAndSelectsClasses()
    {
        using (var model = CornerModel())
            ModelFile.Save(model, Path.Combine(_work, "base.safetensors"));
        var data = Corners(64, seed: 8);
        NpyFile.Write(Path.Combine(_work, "x.npy"), data.Inputs.Span, TensorShape.Nhwc(64, 6, 6, 1));
        NpyFile.Write(Path.Combine(_work, "y.npy"), data.Targets.Span, new TensorShape(64));
        string tuned = Path.Combine(_work, "tuned.safetensors");
        string[] common = ["--model", Path.Combine(_work, "base.safetensors"), "--x", Path.Combine(_work, "x.npy"), "--y", Path.Combine(_work, "y.npy")];
        var result = CommandLineTool.Train.Run([.. common, "--select-classes", "1,0", "--classes", "3", "--freeze-base", "--epochs", "2",
            "--batch-size", "16", "--output", tuned, "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(36 * 3 + 3, json.RootElement.GetProperty("trainable_parameters").GetInt64()); // only the new head
        using var loaded = ModelFile.Load(tuned);
        using var original = ModelFile.Load(Path.Combine(_work, "base.safetensors"));
        Assert.Equal(new TensorShape(36, 3), loaded.GetLayer("predictions").GetWeight("kernel").Value.Shape);
        Assert.DoesNotContain(loaded.Layers, l => l.Name == "out");
        Assert.Equal(original.GetLayer("conv").GetWeight("kernel").Value.ToArray(), loaded.GetLayer("conv").GetWeight("kernel").Value.ToArray());

        Assert.Contains("--classes", CommandLineTool.Train.Run([.. common, "--freeze-base"]).Stderr);
        foreach (string bad in new[] { "1,1", "x", "3-1" })
        {
            var refused = CommandLineTool.Train.Run([.. common, "--select-classes", bad]);
            Assert.True(refused.ExitCode == 2 && refused.Stderr.Contains("--select-classes", StringComparison.Ordinal), $"{bad}: {refused.ExitCode} {refused.Stderr}");
        }
        var none = CommandLineTool.Train.Run([.. common, "--select-classes", "7"]);
        Assert.True(none.ExitCode == 2 && none.Stderr.Contains("No sample has class 7", StringComparison.Ordinal), none.Stderr);

        // A model file is recognized by its content, whatever its name.
        File.Copy(tuned, Path.Combine(_work, "tuned.model"));
        var renamed = CommandLineTool.Train.Run(["--model", Path.Combine(_work, "tuned.model"), .. common[2..], "--select-classes", "0,1", "--limit", "16"]);
        Assert.True(renamed.ExitCode == 0, renamed.Stderr);
    }

    // The values of one weight at the end of the first epoch.
    private sealed class Snapshot(string layer, string weight) : Callback
    {
        public float[] Values { get; private set; } = [];

        public override void OnEpochEnd(CompiledModel model, EpochMetrics metrics)
        {
            if (metrics.Epoch == 0) Values = model.Model.GetLayer(layer).GetWeight(weight).Value.ToArray();
        }
    }

    private sealed class Collect(List<EpochMetrics> into) : IProgress<EpochMetrics>
    {
        public void Report(EpochMetrics value) => into.Add(value);
    }

}
