using NativeCnn.Weights;

namespace NativeCnn.Training;

/// <summary>Keras's <c>Callback</c>: hooks <see cref="CompiledModel.Fit"/> calls at the start, after each batch and epoch, and at the end.</summary>
public abstract class Callback
{
    /// <summary>Before the first epoch.</summary>
    public virtual void OnTrainBegin(CompiledModel model) { }

    /// <summary>After each training step, with the epoch's mean loss so far.</summary>
    public virtual void OnBatchEnd(CompiledModel model, int epoch, int batch, int batchesPerEpoch, double meanLoss) { }

    /// <summary>After each epoch and its validation.</summary>
    public virtual void OnEpochEnd(CompiledModel model, EpochMetrics metrics) { }

    /// <summary>After the last epoch.</summary>
    public virtual void OnTrainEnd(CompiledModel model) { }
}

/// <summary>How a monitored value improves.</summary>
public enum MonitorMode
{
    /// <summary>From the name, as Keras's <c>mode='auto'</c>: names containing <c>acc</c> improve upwards, others downwards.</summary>
    Auto,
    /// <summary>Lower is better (a loss).</summary>
    Min,
    /// <summary>Higher is better (an accuracy).</summary>
    Max,
}

/// <summary>Tracks the best value of one logged quantity, as Keras's monitoring callbacks do.</summary>
public abstract class MonitoringCallback : Callback
{
    /// <summary>Monitors <paramref name="monitor"/> (e.g. <c>val_loss</c>).</summary>
    protected MonitoringCallback(string monitor, MonitorMode mode, double minDelta)
    {
        ArgumentException.ThrowIfNullOrEmpty(monitor);
        Monitor = monitor;
        Mode = mode == MonitorMode.Auto ? (monitor.Contains("acc", StringComparison.Ordinal) ? MonitorMode.Max : MonitorMode.Min) : mode;
        MinDelta = Math.Abs(minDelta);
    }

    /// <summary>The logged quantity watched.</summary>
    public string Monitor { get; }

    /// <summary>Whether it improves downwards or upwards (never <see cref="MonitorMode.Auto"/>).</summary>
    public MonitorMode Mode { get; }

    /// <summary>The least change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>The best value seen (infinite before the first epoch).</summary>
    public double Best { get; protected set; }

    /// <inheritdoc/>
    public override void OnTrainBegin(CompiledModel model) => Best = Mode == MonitorMode.Min ? double.PositiveInfinity : double.NegativeInfinity;

    /// <summary>Whether <paramref name="value"/> beats <see cref="Best"/> by more than <see cref="MinDelta"/>.</summary>
    protected bool IsImprovement(double value) =>
        Mode == MonitorMode.Min ? value < Best - MinDelta : value > Best + MinDelta;
}

/// <summary>
/// Keras's <c>EarlyStopping</c>: stops training when <see cref="MonitoringCallback.Monitor"/> has not improved for
/// <see cref="Patience"/> epochs; with <see cref="RestoreBestWeights"/>, puts back the weights of the best epoch.
/// </summary>
public sealed class EarlyStopping(string monitor = "val_loss", int patience = 0, double minDelta = 0, MonitorMode mode = MonitorMode.Auto,
                                  bool restoreBestWeights = false) : MonitoringCallback(monitor, mode, minDelta)
{
    private float[][]? _bestWeights;
    private int _wait;

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; } = patience >= 0 ? patience : throw new ArgumentOutOfRangeException(nameof(patience));

    /// <summary>Whether the best epoch's weights are restored when training stops early.</summary>
    public bool RestoreBestWeights { get; } = restoreBestWeights;

    /// <summary>The epoch training stopped after, or null when it ran to the end.</summary>
    public int? StoppedEpoch { get; private set; }

    /// <inheritdoc/>
    public override void OnTrainBegin(CompiledModel model)
    {
        base.OnTrainBegin(model);
        _wait = 0;
        StoppedEpoch = null;
        _bestWeights = null;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(CompiledModel model, EpochMetrics metrics)
    {
        double value = metrics[Monitor];
        if (IsImprovement(value))
        {
            Best = value;
            _wait = 0;
            if (RestoreBestWeights) _bestWeights = [.. model.Model.Weights.Select(w => w.Value.ToArray())];
            return;
        }
        // Keras counts the epoch first and stops once the wait reaches the patience (never after the first epoch).
        if (++_wait < Patience || metrics.Epoch == 0) return;
        StoppedEpoch = metrics.Epoch;
        model.StopTraining = true;
        if (_bestWeights is null) return;
        int i = 0;
        foreach (var weight in model.Model.Weights) weight.Value.CopyFrom(_bestWeights[i++]);
        model.Model.InvalidatePlans();
    }
}

/// <summary>
/// Keras's <c>ModelCheckpoint</c>: saves the model file (weights by Keras name with its config,
/// <see cref="ModelFile.Save"/>) after each epoch, or only when <see cref="MonitoringCallback.Monitor"/> improves.
/// <c>{epoch}</c> in the path is replaced by the epoch number (from 1, as Keras).
/// </summary>
public sealed class ModelCheckpoint(string path, string monitor = "val_loss", bool saveBestOnly = false, MonitorMode mode = MonitorMode.Auto)
    : MonitoringCallback(monitor, mode, 0)
{
    /// <summary>The file path pattern.</summary>
    public string Path { get; } = !string.IsNullOrEmpty(path) ? path : throw new ArgumentException("a checkpoint needs a path", nameof(path));

    /// <summary>Whether only improvements are saved.</summary>
    public bool SaveBestOnly { get; } = saveBestOnly;

    /// <summary>The last file written, or null.</summary>
    public string? LastSaved { get; private set; }

    /// <inheritdoc/>
    public override void OnEpochEnd(CompiledModel model, EpochMetrics metrics)
    {
        if (SaveBestOnly)
        {
            double value = metrics[Monitor];
            if (!IsImprovement(value)) return;
            Best = value;
        }
        string file = Path.Replace("{epoch}", (metrics.Epoch + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        ModelFile.Save(model.Model, file);
        LastSaved = file;
    }
}

/// <summary>
/// Keras's <c>ReduceLROnPlateau</c>: multiplies a constant learning rate by <see cref="Factor"/> when
/// <see cref="MonitoringCallback.Monitor"/> has not improved for <see cref="Patience"/> epochs, down to
/// <see cref="MinLearningRate"/>, then waits <see cref="Cooldown"/> epochs.
/// </summary>
/// <remarks>Arguments and defaults as Keras's.</remarks>
/// <param name="monitor">The logged value to watch.</param>
/// <param name="factor">The multiplier, in (0, 1).</param>
/// <param name="patience">Epochs without improvement before a reduction.</param>
/// <param name="minDelta">The smallest change that counts as an improvement.</param>
/// <param name="cooldown">Epochs to wait after a reduction.</param>
/// <param name="minLearningRate">The floor.</param>
/// <param name="mode">Whether lower or higher is better.</param>
/// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is outside (0, 1), or <paramref name="patience"/> or <paramref name="cooldown"/> is negative.</exception>
public sealed class ReduceLROnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10, double minDelta = 1e-4,
                                      int cooldown = 0, double minLearningRate = 0, MonitorMode mode = MonitorMode.Auto)
    : MonitoringCallback(monitor, mode, minDelta)
{
    private int _wait, _cooldownLeft;

    /// <summary>The multiplier.</summary>
    public double Factor { get; } = factor is > 0 and < 1 ? factor
        : throw new ArgumentOutOfRangeException(nameof(factor), "ReduceLROnPlateau's factor must be in (0, 1).");

    /// <summary>Epochs without improvement before a reduction.</summary>
    public int Patience { get; } = patience >= 0 ? patience : throw new ArgumentOutOfRangeException(nameof(patience));

    /// <summary>Epochs to wait after a reduction.</summary>
    public int Cooldown { get; } = cooldown >= 0 ? cooldown : throw new ArgumentOutOfRangeException(nameof(cooldown));

    /// <summary>The floor.</summary>
    public double MinLearningRate { get; } = minLearningRate;

    /// <inheritdoc/>
    public override void OnTrainBegin(CompiledModel model)
    {
        base.OnTrainBegin(model);
        _wait = 0;
        _cooldownLeft = 0;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(CompiledModel model, EpochMetrics metrics)
    {
        double value = metrics[Monitor];
        if (_cooldownLeft > 0)
        {
            _cooldownLeft--;
            _wait = 0;
        }
        if (IsImprovement(value))
        {
            Best = value;
            _wait = 0;
            return;
        }
        if (_cooldownLeft > 0 || ++_wait < Patience) return;
        if (model.Optimizer.LearningRate is not ConstantLearningRate)
            throw new InvalidOperationException($"ReduceLROnPlateau needs a constant learning rate, not {model.Optimizer.LearningRate}.");
        double current = model.Optimizer.CurrentLearningRate;
        if (current > MinLearningRate)
        {
            model.Optimizer.LearningRate = (float)Math.Max(current * Factor, MinLearningRate);
            _cooldownLeft = Cooldown;
            _wait = 0;
        }
    }
}
