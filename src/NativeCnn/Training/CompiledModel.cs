using System.Diagnostics;
using NativeCnn.Backends;
using NativeCnn.Models;

namespace NativeCnn.Training;

/// <summary>Keras's <c>model.compile(...)</c> as an extension: <c>using var training = model.Compile(optimizer, loss, "accuracy")</c>.</summary>
public static class ModelTraining
{
    /// <summary>
    /// Prepares <paramref name="model"/> for <see cref="CompiledModel.Fit"/> and <see cref="CompiledModel.Evaluate"/>
    /// with an optimizer, a loss and metrics by Keras name (<c>accuracy</c>, …). Which layers train is read at the first
    /// <c>Fit</c>: set <see cref="Layers.Layer.Trainable"/> before it, as in Keras before <c>compile</c>.
    /// </summary>
    /// <param name="model">The model to train; it stays owned by the caller.</param>
    /// <param name="optimizer">The optimizer; it is built on the model's trained weights at the first step.</param>
    /// <param name="loss">The loss.</param>
    /// <param name="metrics">Keras metric names, reported per epoch beside the loss.</param>
    /// <param name="device">Where to train (default: the CPU).</param>
    /// <exception cref="NotSupportedException">The device cannot train.</exception>
    public static CompiledModel Compile(this Model model, Optimizer optimizer, Loss loss, IEnumerable<string>? metrics = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        var target = device ?? Device.Cpu;
        var backend = target.CreateBackend();
        if (backend is not ITrainingBackend training)
        {
            backend.Dispose();
            throw new NotSupportedException($"{model.Name}: {target} cannot train; train on the CPU (Device.Cpu).");
        }
        return new CompiledModel(model, training, optimizer, loss, [.. metrics ?? []]);
    }
}

/// <summary>
/// A model with its optimizer, loss and metrics, ready to <see cref="Fit"/> and <see cref="Evaluate"/> as Keras does.
/// Holds one <see cref="TrainingPlan"/> per batch size it has seen (the full batch and a short last one); dispose it to
/// free them. Not for concurrent use: one Fit or Evaluate at a time.
/// </summary>
public sealed class CompiledModel : IDisposable
{
    private readonly ITrainingBackend _backend;
    private readonly string[] _metricNames;
    private readonly Dictionary<int, TrainingPlan> _plans = [];
    private ModelGradients? _gradients;
    private bool _disposed;

    internal CompiledModel(Model model, ITrainingBackend backend, Optimizer optimizer, Loss loss, string[] metricNames)
    {
        Model = model;
        _backend = backend;
        Optimizer = optimizer;
        Loss = loss;
        _metricNames = metricNames;
    }

    /// <summary>The model trained.</summary>
    public Model Model { get; }

    /// <summary>The optimizer.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The loss.</summary>
    public Loss Loss { get; }

    /// <summary>Set by a callback (e.g. <see cref="EarlyStopping"/>) to end <see cref="Fit"/> after the current epoch, as Keras's <c>model.stop_training</c>.</summary>
    public bool StopTraining { get; set; }

    /// <summary>The gradients of the last training step, by Keras weight path (null before the first step).</summary>
    public ModelGradients? Gradients => _gradients;

    /// <summary>
    /// Trains for <paramref name="epochs"/> epochs as Keras's <c>fit</c>: batches of <paramref name="batchSize"/> in an
    /// order shuffled per epoch (seeded), the last batch short; one optimizer step per batch; the loss and metrics
    /// averaged over the epoch's samples; then validation in inference mode and the callbacks. Returns the history.
    /// </summary>
    /// <param name="data">Training inputs and targets.</param>
    /// <param name="epochs">Epochs to run.</param>
    /// <param name="batchSize">Samples per step (Keras's default 32).</param>
    /// <param name="validationData">Evaluated after each epoch (<c>val_loss</c>, <c>val_accuracy</c>, …), or null.</param>
    /// <param name="callbacks">Called at the end of each epoch (and batch), in order.</param>
    /// <param name="progress">Told each epoch's metrics as it ends.</param>
    /// <param name="cancellationToken">Checked before each batch; cancelling throws <see cref="OperationCanceledException"/>.</param>
    /// <param name="shuffle">Shuffle each epoch (Keras's default); the order is fixed by <paramref name="seed"/> and the epoch.</param>
    /// <param name="seed">The seed of the shuffle and of the augmentation.</param>
    /// <param name="randomHorizontalFlip">Mirror each training sample left-right with probability 1/2 (Keras <c>RandomFlip("horizontal")</c>; see <see cref="BatchIterator"/>).</param>
    /// <param name="randomCrop">
    /// Cut each training sample to this size at a random position (see <see cref="BatchIterator"/>); the model takes the
    /// cropped size, and <paramref name="validationData"/> must already have it (e.g. <see cref="ArrayDataset.CenterCrop"/>).
    /// </param>
    /// <exception cref="ArgumentException">The data (cropped, with <paramref name="randomCrop"/>) does not fit the model's input or loss.</exception>
    public History Fit(ArrayDataset data, int epochs = 1, int batchSize = 32, ArrayDataset? validationData = null,
                       IReadOnlyList<Callback>? callbacks = null, IProgress<EpochMetrics>? progress = null,
                       CancellationToken cancellationToken = default, bool shuffle = true, long seed = 0,
                       bool randomHorizontalFlip = false, CropSize? randomCrop = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (data.Count == 0) throw new ArgumentException($"{Model.Name}: the data has no samples.", nameof(data));
        var batches = new BatchIterator(data, Math.Min(batchSize, data.Count), shuffle, seed, randomHorizontalFlip: randomHorizontalFlip, randomCrop: randomCrop);
        CheckData(batches.InputLength, data, nameof(data));
        if (validationData is not null) CheckData(validationData.InputLength, validationData, nameof(validationData));
        callbacks ??= [];
        var history = new History();
        var inputs = new float[checked(batches.BatchSize * batches.InputLength)];
        var targets = new float[checked(batches.BatchSize * data.TargetsPerSample)];
        var metrics = CreateMetrics(data.TargetsPerSample);
        var meanLoss = new MeanMetric("loss");
        StopTraining = false;
        foreach (var callback in callbacks) callback.OnTrainBegin(this);
        for (int epoch = 0; epoch < epochs && !StopTraining; epoch++)
        {
            long started = Stopwatch.GetTimestamp();
            batches.StartEpoch(epoch);
            meanLoss.Reset();
            foreach (var metric in metrics) metric.Reset();
            for (int b = 0; b < batches.BatchesPerEpoch; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = batches.NextBatch(inputs, targets);
                var plan = PlanFor(count);
                float loss = plan.Step(inputs.AsSpan(0, count * batches.InputLength), targets.AsSpan(0, count * data.TargetsPerSample));
                meanLoss.Update(loss, count);
                UpdateMetrics(metrics, plan, targets.AsSpan(0, count * data.TargetsPerSample), count);
                foreach (var callback in callbacks) callback.OnBatchEnd(this, epoch, b, batches.BatchesPerEpoch, meanLoss.Result);
            }
            var values = new Dictionary<string, double>(StringComparer.Ordinal) { ["loss"] = meanLoss.Result };
            foreach (var metric in metrics) values[metric.Name] = metric.Result;
            if (validationData is not null)
                foreach (var (name, value) in Evaluate(validationData, batchSize).Values) values["val_" + name] = value;
            var result = new EpochMetrics(epoch, values, Stopwatch.GetElapsedTime(started), Optimizer.CurrentLearningRate);
            history.Add(result);
            foreach (var callback in callbacks) callback.OnEpochEnd(this, result);
            progress?.Report(result);
        }
        foreach (var callback in callbacks) callback.OnTrainEnd(this);
        return history;
    }

    /// <summary>
    /// The loss and metrics over <paramref name="data"/> in inference mode (moving statistics, no dropout), averaged over
    /// samples as Keras's <c>evaluate</c>; no weight changes.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the model's input or loss.</exception>
    public EpochMetrics Evaluate(ArrayDataset data, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckData(data.InputLength, data, nameof(data));
        long started = Stopwatch.GetTimestamp();
        var batches = new BatchIterator(data, Math.Min(batchSize, data.Count), shuffle: false);
        var inputs = new float[checked(batches.BatchSize * data.InputLength)];
        var targets = new float[checked(batches.BatchSize * data.TargetsPerSample)];
        var metrics = CreateMetrics(data.TargetsPerSample);
        var meanLoss = new MeanMetric("loss");
        for (int b = 0; b < batches.BatchesPerEpoch; b++)
        {
            int count = batches.NextBatch(inputs, targets);
            var plan = PlanFor(count);
            var batchTargets = targets.AsSpan(0, count * data.TargetsPerSample);
            float loss = plan.Forward(inputs.AsSpan(0, count * data.InputLength), training: false, batchTargets, out var outputs);
            meanLoss.Update(loss, count);
            foreach (var metric in metrics) metric.Update(outputs, batchTargets, count);
        }
        var values = new Dictionary<string, double>(StringComparer.Ordinal) { ["loss"] = meanLoss.Result };
        foreach (var metric in metrics) values[metric.Name] = metric.Result;
        return new EpochMetrics(0, values, Stopwatch.GetElapsedTime(started), Optimizer.CurrentLearningRate);
    }

    private void UpdateMetrics(Metric[] metrics, TrainingPlan plan, ReadOnlySpan<float> targets, int count)
    {
        if (metrics.Length == 0) return;
        // Keras's training metrics see the outputs of the training-mode forward pass of the step, before the update.
        var outputs = plan.LastOutputs;
        foreach (var metric in metrics) metric.Update(outputs, targets, count);
    }

    private Metric[] CreateMetrics(int targetsPerSample)
    {
        int outputs = checked((int)Model.Output.OutputShape.ElementCount);
        return [.. _metricNames.Select(name => Metric.FromName(name, targetsPerSample, outputs))];
    }

    // sampleLength: values per sample as batched (after any crop).
    private void CheckData(int sampleLength, ArrayDataset data, string name)
    {
        long inputLength = Model.Input.OutputShape.ElementCount;
        if (sampleLength != inputLength)
            throw new ArgumentException($"{Model.Name}: the model takes {Model.Input.OutputShape.WithBatch(1)} ({inputLength} values per sample), the data has {sampleLength} per sample.", name);
        int outputs = checked((int)Model.Output.OutputShape.ElementCount);
        int expected = Loss.TargetsPerSample(outputs);
        if (data.TargetsPerSample != expected)
            throw new ArgumentException($"{Model.Name}: {Loss.Name} takes {expected} target value(s) per sample for {outputs} outputs, the data has {data.TargetsPerSample}.", name);
        if (data.Count == 0) throw new ArgumentException($"{Model.Name}: the data has no samples.", name);
    }

    private TrainingPlan PlanFor(int batch)
    {
        if (_plans.TryGetValue(batch, out var plan)) return plan;
        _gradients ??= new ModelGradients(Model);
        plan = new TrainingPlan(Model, _backend, batch, Loss, Optimizer, _gradients);
        _plans[batch] = plan;
        return plan;
    }

    /// <summary>Frees the training plans, their buffers and the backend.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var plan in _plans.Values) plan.Dispose();
        _gradients?.Dispose();
        _backend.Dispose();
    }
}

/// <summary>One epoch's results: the loss and metrics by Keras log name (<c>loss</c>, <c>accuracy</c>, <c>val_loss</c>, …).</summary>
/// <param name="Epoch">The epoch, from 0.</param>
/// <param name="Values">Values by Keras log name.</param>
/// <param name="Duration">Wall time of the epoch, validation included.</param>
/// <param name="LearningRate">The learning rate at the epoch's end.</param>
public sealed record EpochMetrics(int Epoch, IReadOnlyDictionary<string, double> Values, TimeSpan Duration, float LearningRate)
{
    /// <summary>The value logged as <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">Nothing is logged under that name; the message lists what is.</exception>
    public double this[string name] => Values.TryGetValue(name, out double value) ? value
        : throw new KeyNotFoundException($"no '{name}' in this epoch's log; it has {string.Join(", ", Values.Keys)}.");

    /// <inheritdoc/>
    public override string ToString() =>
        $"epoch {Epoch + 1}: " + string.Join(", ", Values.Select(v => $"{v.Key} {v.Value.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)}"));
}

/// <summary>Keras's <c>History</c>: every epoch's <see cref="EpochMetrics"/>, and each logged value as a series.</summary>
public sealed class History
{
    private readonly List<EpochMetrics> _epochs = [];

    /// <summary>The epochs run, in order.</summary>
    public IReadOnlyList<EpochMetrics> Epochs => _epochs;

    /// <summary>One value per epoch, e.g. <c>history["val_accuracy"]</c>.</summary>
    /// <exception cref="KeyNotFoundException">Nothing is logged under that name.</exception>
    public IReadOnlyList<double> this[string name] => [.. _epochs.Select(e => e[name])];

    internal void Add(EpochMetrics epoch) => _epochs.Add(epoch);
}
