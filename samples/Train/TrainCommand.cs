using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NativeCnn.Models;
using NativeCnn.Training;
using NativeCnn.Weights;
using Spectre.Console;

namespace NativeCnn.Samples.Train;

/// <summary>
/// Trains or fine-tunes a model on the CPU as Keras's <c>fit</c> does, and saves the trained model file (exit 0 trained,
/// 1 a file or the training failed, 2 a usage error).
/// </summary>
internal static class TrainCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("""
            Train: train or fine-tune a Keras model on the CPU, as Keras's model.fit does.
              Train --dataset fashion-mnist [--model FILE] [options]
              Train --model FILE --x X.npy --y Y.npy [options]
              Train --model FILE --images DIR [options]
            Without --model, --dataset fashion-mnist trains the README's small CNN from scratch. Fashion-MNIST is read
            from /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist) and its test set is evaluated at the end.
            --x holds NHWC float32 inputs; --y integer class labels (sparse losses) or one-hot float rows (categorical).
            --images DIR has one subfolder per class (sorted names), as Keras's image_dataset_from_directory.
            --random-crop and --random-flip augment each training sample as it is batched (Keras's RandomCrop and
            RandomFlip("horizontal") in training mode); with --random-crop, validation and test samples are
            center-cropped to the model's input size, and --image-size decodes --images larger than it.
            The trained model file (.safetensors: weights by Keras name, BatchNormalization moving statistics included,
            and the Keras config) loads with ModelFile.Load and every command line's --model.
            """);
        var model = new Option<string?>("--model") { Description = "The model to train: a .safetensors model file, Keras .h5/.keras, or TF.js model.json." };
        var x = new Option<string?>("--x") { Description = "Training inputs, NHWC float32 .npy." };
        var y = new Option<string?>("--y") { Description = "Training targets .npy: integer labels, or one-hot float rows." };
        var dataset = new Option<string?>("--dataset") { Description = "A built-in dataset: fashion-mnist." };
        dataset.AcceptOnlyFromAmong("fashion-mnist");
        var images = new Option<string?>("--images") { Description = "A folder with one subfolder of images per class." };
        var loss = new Option<string>("--loss") { Description = "sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy or mean_squared_error.", DefaultValueFactory = _ => "sparse_categorical_crossentropy" };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, adam, adamw or rmsprop.", DefaultValueFactory = _ => "adam" };
        optimizer.AcceptOnlyFromAmong("sgd", "adam", "adamw", "rmsprop");
        var learningRate = new Option<double?>("--learning-rate") { Description = "The learning rate (default: Keras's for the optimizer: sgd 0.01, others 0.001)." };
        var momentum = new Option<double>("--momentum") { Description = "SGD's or RMSprop's momentum.", DefaultValueFactory = _ => 0.0 };
        var batchSize = Cli.PositiveInt("--batch-size", "Samples per step.", 32);
        var epochs = Cli.PositiveInt("--epochs", "Passes over the training data.", 1);
        var noShuffle = new Option<bool>("--no-shuffle") { Description = "Keep the data's order (Keras shuffles each epoch)." };
        var validationSplit = new Option<double>("--validation-split") { Description = "The fraction of the training data (its last samples, as Keras) held out for validation.", DefaultValueFactory = _ => 0.0 };
        var freezeUntil = new Option<string?>("--freeze-until") { Description = "Freeze every layer up to and including LAYER (Keras: layer.trainable = False)." };
        var output = new Option<string?>("--output") { Description = "Where the trained model file goes (.safetensors)." };
        var seed = new Option<long>("--seed") { Description = "The shuffle seed.", DefaultValueFactory = _ => 0 };
        var limit = Cli.OptionalPositiveInt("--limit", "Train on the first N samples only (a quick run).");
        var classes = Cli.OptionalPositiveInt("--classes", "Replace the classifier with a new N-class head before training (Model.ReplaceClassifier).");
        var freezeBase = new Option<bool>("--freeze-base") { Description = "Train only the new head of --classes; every other layer is frozen." };
        var selectClasses = new Option<string?>("--select-classes") { Description = "Keep only the samples of these classes, relabelled 0, 1, … in the order given: a list (5,6,7) or a range (5-9)." };
        var imageSize = Cli.OptionalPositiveInt("--image-size", "Decode --images at N x N (default: the model's input size).");
        var randomCrop = new Option<bool>("--random-crop") { Description = "Crop each training sample at a random position to the model's input height and width." };
        var randomFlip = new Option<bool>("--random-flip") { Description = "Mirror each training sample left-right with probability 1/2." };
        var json = new Option<bool>("--json") { Description = "Machine-readable output: the history (and the test evaluation) as JSON." };
        foreach (var option in new Option[] { model, x, y, dataset, images, loss, optimizer, learningRate, momentum, batchSize, epochs, noShuffle,
                                              validationSplit, freezeUntil, classes, freezeBase, selectClasses, imageSize, randomCrop, randomFlip,
                                              output, seed, limit, json })
            root.Options.Add(option);
        root.SetAction(r =>
        {
            string? modelPath = r.GetValue(model), xPath = r.GetValue(x), yPath = r.GetValue(y), datasetName = r.GetValue(dataset), imagesPath = r.GetValue(images);
            int sources = (xPath is not null || yPath is not null ? 1 : 0) + (datasetName is not null ? 1 : 0) + (imagesPath is not null ? 1 : 0);
            if (sources != 1) throw new UsageException("give the training data once: --x X.npy --y Y.npy, --dataset fashion-mnist or --images DIR");
            if ((xPath is null) != (yPath is null)) throw new UsageException("--x and --y go together");
            if (modelPath is null && datasetName is null) throw new UsageException("--model FILE is needed (only --dataset fashion-mnist has a built-in model)");
            double split = r.GetValue(validationSplit);
            if (!(split is >= 0 and < 1)) throw new UsageException($"--validation-split must be in [0, 1), got {split}");
            if (r.GetValue(momentum) is var m && !(m is >= 0 and < 1)) throw new UsageException($"--momentum must be in [0, 1), got {m}");
            if (r.GetValue(learningRate) is { } rate && !(rate > 0 && double.IsFinite(rate))) throw new UsageException($"--learning-rate must be positive, got {rate}");
            var lossFunction = ParseLoss(r.GetValue(loss)!);
            if (modelPath is not null) Cli.ExistingFile(modelPath, "model");
            if (r.GetValue(imageSize) is not null && imagesPath is null) throw new UsageException("--image-size sets the size --images are decoded at: give --images DIR");
            int? headClasses = r.GetValue(classes);
            if (r.GetValue(freezeBase) && headClasses is null) throw new UsageException("--freeze-base freezes all but the new head: give --classes N");
            int[]? selected = r.GetValue(selectClasses) is { } list ? ParseClasses(list) : null;
            bool jsonOutput = r.GetValue(json);
            var stdout = r.InvocationConfiguration.Output;
            var stderr = r.InvocationConfiguration.Error;

            // The data first: a bad file fails before anything is built.
            ArrayDataset train;
            ArrayDataset? test = null;
            if (datasetName is not null)
            {
                (train, test) = FashionMnist.Load();
            }
            else if (imagesPath is not null)
            {
                // Images are decoded at the model's input size, so the model comes first.
                if (!Directory.Exists(imagesPath)) throw new DirectoryNotFoundException($"--images: no such folder: {imagesPath}");
                using var sizing = ModelSources.LoadModel(Cli.ExistingFile(modelPath!, "model"), resolution: null);
                var size = sizing.Input.OutputShape;
                if (size.Rank != 4 || size.Channels != 3) throw new UsageException($"--images needs a model with an RGB image input, {sizing.Name} takes {size}");
                int height = r.GetValue(imageSize) ?? size.Height, width = r.GetValue(imageSize) ?? size.Width;
                var folder = ImageFolderDataset.FromDirectory(imagesPath, height, width, seed: (uint)r.GetValue(seed));
                if (!jsonOutput) stdout.WriteLine($"{folder}: {string.Join(", ", folder.ClassNames)}");
                train = folder.Load();
            }
            else
            {
                train = ArrayDataset.FromNpy(Cli.ExistingFile(xPath!, "--x"), Cli.ExistingFile(yPath!, "--y"));
            }
            if (selected is not null)
            {
                train = SelectClasses(train, selected);
                if (test is not null) test = SelectClasses(test, selected);
            }
            if (r.GetValue(limit) is { } n && n < train.Count) train = train.Slice(0, n);
            ArrayDataset? validation = null;
            if (split > 0)
            {
                (train, validation) = train.Split(split);
                if (train.Count == 0 || validation.Count == 0)
                    throw new UsageException($"--validation-split {split} leaves an empty training or validation set of {train.Count + validation.Count} samples");
            }

            using var loaded = modelPath is null
                ? ExampleModels.FashionMnistCnn()
                : ModelSources.LoadModel(Cli.ExistingFile(modelPath, "model"), resolution: null);
            using var replaced = headClasses is { } k ? loaded.ReplaceClassifier(k) : null;
            var built = replaced ?? loaded;
            if (r.GetValue(freezeUntil) is { } last) Freeze(built, last);
            if (r.GetValue(freezeBase))
                foreach (var layer in built.Layers) layer.Trainable = layer == built.Output.Layer;
            CropSize? crop = null;
            if (r.GetValue(randomCrop))
            {
                crop = CropToInput(built, train);
                if (validation is not null) validation = CenterCrop(validation, crop.Value, "validation");
                if (test is not null) test = CenterCrop(test, crop.Value, "test");
            }
            if (r.GetValue(randomFlip) && train.SampleShape.Count != 3)
                throw new UsageException($"--random-flip needs (height, width, channels) samples, the data has ({string.Join(", ", train.SampleShape)})");
            var optimizerInstance = CreateOptimizer(r.GetValue(optimizer)!, r.GetValue(learningRate), r.GetValue(momentum));
            string[] metrics = lossFunction.Name.Contains("crossentropy", StringComparison.Ordinal) ? ["accuracy"] : [];
            using var compiled = built.Compile(optimizerInstance, lossFunction, metrics);

            if (!jsonOutput)
            {
                stdout.WriteLine($"{built.Name}: {built.TrainableParameterCount:N0} of {built.ParameterCount:N0} parameters trained; "
                                 + $"{train.Count:N0} training samples{(validation is null ? "" : $", {validation.Count:N0} validation")}; "
                                 + $"{optimizerInstance.Name}, {lossFunction.Name}, batch {r.GetValue(batchSize)}");
            }
            var augmentation = new Augmentation(r.GetValue(randomFlip), crop);
            var history = Fit(compiled, train, validation, r.GetValue(epochs), r.GetValue(batchSize), !r.GetValue(noShuffle), r.GetValue(seed),
                              augmentation, Cli.ShowsProgress(jsonOutput), jsonOutput ? null : stdout);
            EpochMetrics? testResult = test is null ? null : compiled.Evaluate(test, Math.Max(r.GetValue(batchSize), 64));
            if (testResult is not null && !jsonOutput) stdout.WriteLine($"test: {Format(testResult)}");
            string? outputPath = r.GetValue(output);
            if (outputPath is not null)
            {
                ModelFile.Save(built, outputPath);
                if (!jsonOutput) stdout.WriteLine($"wrote {outputPath}");
            }
            if (jsonOutput) WriteJson(stdout, built, history, testResult, outputPath);
            return Cli.Success;
        });
        return root;
    }

    private readonly record struct Augmentation(bool Flip, CropSize? Crop);

    private static History Fit(CompiledModel compiled, ArrayDataset train, ArrayDataset? validation, int epochs, int batchSize, bool shuffle, long seed,
                               Augmentation augmentation, bool showProgress, TextWriter? log)
    {
        var printer = new EpochPrinter(log, epochs);
        History Run(IReadOnlyList<Callback> callbacks) => compiled.Fit(train, epochs, batchSize, validation, callbacks, shuffle: shuffle, seed: seed,
                                                                       randomHorizontalFlip: augmentation.Flip, randomCrop: augmentation.Crop);
        if (!showProgress) return Run([printer]);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        History history = null!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var bar = new ProgressBar(context, epochs);
                history = Run([bar, printer]);
            });
        return history;
    }

    private static Optimizer CreateOptimizer(string name, double? learningRate, double momentum) => name switch
    {
        "sgd" => new Sgd((float)(learningRate ?? 0.01), momentum),
        "adam" => new Adam((float)(learningRate ?? 0.001)),
        "adamw" => new AdamW((float)(learningRate ?? 0.001)),
        _ => new RmsProp((float)(learningRate ?? 0.001), momentum: momentum),
    };

    private static Loss ParseLoss(string name)
    {
        try
        {
            return Loss.FromName(name);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--loss: {e.Message}");
        }
    }

    private static int[] ParseClasses(string text)
    {
        var invalid = new UsageException($"--select-classes: '{text}' is not a list of class indexes (5,6,7) or a range (5-9)");
        int Parse(string value) => int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int c) ? c : throw invalid;
        var range = text.Split('-');
        int[] result;
        if (range.Length == 2)
        {
            int first = Parse(range[0]), last = Parse(range[1]);
            if (last < first || last - first >= 1_000_000) throw invalid;
            result = Enumerable.Range(first, last - first + 1).ToArray();
        }
        else
        {
            result = text.Split(',').Select(Parse).ToArray();
        }
        if (result.Distinct().Count() != result.Length) throw new UsageException($"--select-classes: '{text}' names a class twice");
        return result;
    }

    private static ArrayDataset SelectClasses(ArrayDataset data, int[] classes)
    {
        try
        {
            return data.SelectClasses(classes);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new UsageException($"--select-classes: {e.Message}");
        }
    }

    // The crop is the model's input size; the training samples must be (height, width, channels) and at least that large.
    private static CropSize CropToInput(Model model, ArrayDataset train)
    {
        var input = model.Input.OutputShape;
        if (input.Rank != 4) throw new UsageException($"--random-crop needs a model with an image input, {model.Name} takes {input}");
        var sample = train.SampleShape;
        if (sample.Count != 3 || sample[0] < input.Height || sample[1] < input.Width || sample[2] != input.Channels)
            throw new UsageException($"--random-crop cuts ({string.Join(", ", sample)}) training samples to the model's {input.Height}x{input.Width}x{input.Channels} input: "
                                     + "they must be (height, width, channels), at least that large, with as many channels");
        return new CropSize(input.Height, input.Width);
    }

    private static ArrayDataset CenterCrop(ArrayDataset data, CropSize crop, string what)
    {
        try
        {
            return data.CenterCrop(crop.Height, crop.Width);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--random-crop: the {what} samples: {e.Message}");
        }
    }

    // Keras's idiom: for layer in model.layers[:index + 1]: layer.trainable = False.
    private static void Freeze(Model model, string lastFrozen)
    {
        int index = model.Layers.Select(l => l.Name).ToList().IndexOf(lastFrozen);
        if (index < 0) throw new UsageException($"--freeze-until: {model.Name} has no layer '{lastFrozen}'");
        for (int i = 0; i <= index; i++) model.Layers[i].Trainable = false;
    }

    private static string Format(EpochMetrics metrics) =>
        string.Join(", ", metrics.Values.Select(v => $"{v.Key} {v.Value.ToString("F4", CultureInfo.InvariantCulture)}"));

    private static void WriteJson(TextWriter stdout, Model model, History history, EpochMetrics? test, string? outputPath)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model.Name);
            writer.WriteNumber("parameters", model.ParameterCount);
            writer.WriteNumber("trainable_parameters", model.TrainableParameterCount);
            writer.WriteStartArray("epochs");
            foreach (var epoch in history.Epochs)
            {
                writer.WriteStartObject();
                writer.WriteNumber("epoch", epoch.Epoch + 1);
                foreach (var (key, value) in epoch.Values) writer.WriteNumber(key, value);
                writer.WriteNumber("learning_rate", epoch.LearningRate);
                writer.WriteNumber("seconds", Math.Round(epoch.Duration.TotalSeconds, 3));
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            if (test is not null)
            {
                writer.WriteStartObject("test");
                foreach (var (key, value) in test.Values) writer.WriteNumber(key, value);
                writer.WriteEndObject();
            }
            if (outputPath is not null) writer.WriteString("output", outputPath);
            writer.WriteEndObject();
        }
        stdout.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>One line per epoch: Keras's log (<c>loss</c>, <c>accuracy</c>, <c>val_…</c>) and the epoch's time.</summary>
    private sealed class EpochPrinter(TextWriter? log, int epochs) : Callback
    {
        public override void OnEpochEnd(CompiledModel model, EpochMetrics metrics) =>
            log?.WriteLine($"epoch {metrics.Epoch + 1}/{epochs}: {Format(metrics)} ({metrics.Duration.TotalSeconds:F1} s)");
    }

    /// <summary>A Spectre progress bar over the batches of each epoch.</summary>
    private sealed class ProgressBar(ProgressContext context, int epochs) : Callback
    {
        private ProgressTask? _task;
        private int _epoch = -1;

        public override void OnBatchEnd(CompiledModel model, int epoch, int batch, int batchesPerEpoch, double meanLoss)
        {
            if (epoch != _epoch)
            {
                _task?.StopTask();
                _task = context.AddTask($"epoch {epoch + 1}/{epochs}", maxValue: batchesPerEpoch);
                _epoch = epoch;
            }
            _task!.Description = $"epoch {epoch + 1}/{epochs} loss {meanLoss:F4}";
            _task.Value = batch + 1;
        }
    }
}
