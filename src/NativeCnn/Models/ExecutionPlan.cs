using System.Diagnostics;
using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Tensors;

namespace NativeCnn.Models;

/// <summary>
/// A model prepared on a backend for one batch size: every activation buffer allocated and every op prepared up front,
/// so <see cref="Run()"/> allocates nothing. Every layer's output stays readable through <see cref="GetActivation"/>.
/// </summary>
public sealed class ExecutionPlan : IDisposable
{
    private readonly Dictionary<Node, IDeviceBuffer> _buffers = [];
    private readonly Dictionary<string, PlanStep> _stepsByName = new(StringComparer.Ordinal);
    private readonly PlanStep[] _steps;
    private readonly List<Tensor> _ownedWeights = [];
    private readonly bool _ownsBackend;
    private bool _disposed;

    internal ExecutionPlan(Model model, IBackend backend, int batch, bool fuse, bool ownsBackend = false)
    {
        _ownsBackend = ownsBackend;
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        Model = model;
        Backend = backend;
        Batch = batch;
        IsFused = fuse;
        var steps = new List<PlanStep>();
        try
        {
            _buffers[model.Input] = backend.Allocate(model.Input.OutputShape.WithBatch(batch));
            foreach (var (node, create) in fuse ? LayerFusion.Fused(model, op => backend.Supports(op, out _)) : LayerFusion.Unfused(model))
            {
                var group = create(n => _buffers[n].Shape);
                _ownedWeights.AddRange(group.OwnedWeights);
                var inputShapes = group.Inputs.Select(n => _buffers[n].Shape).ToArray();
                var outputShape = ComputeOutputShape(group);
                if (!backend.Supports(group.Op, out var reason))
                    throw new BackendException($"{node.Name}: {backend.Name} cannot run {group.Op.GetType().Name}: {reason}.");
                var output = backend.Allocate(outputShape);
                _buffers[node] = output;
                var binding = new OpBinding(node.Name, group.Inputs.Select(n => _buffers[n]).ToArray(), output, group.Weights);
                var prepared = backend.Prepare(group.Op, binding);
                long macs = group.Members.Sum(m => m.Layer.CountMultiplyAccumulates(
                    m.Inputs.Select(i => i.OutputShape.WithBatch(batch)).ToArray(), m.OutputShape.WithBatch(batch)));
                var step = new PlanStep(node, group.Members, group.Op, prepared, inputShapes, output, macs);
                steps.Add(step);
                foreach (var member in group.Members) _stepsByName[member.Name] = step;
            }
        }
        catch
        {
            foreach (var step in steps) step.Prepared.Dispose();
            foreach (var buffer in _buffers.Values) buffer.Dispose();
            foreach (var weight in _ownedWeights) weight.Dispose();
            throw;
        }
        _steps = steps.ToArray();
    }

    /// <summary>Every member's output shape at the plan's batch size; the group's output is its last member's.</summary>
    private TensorShape ComputeOutputShape(LayerFusion.Group group)
    {
        var shapes = new Dictionary<Node, TensorShape>();
        foreach (var member in group.Members)
        {
            var inputShapes = member.Inputs.Select(i => shapes.TryGetValue(i, out var s) ? s : _buffers[i].Shape).ToArray();
            shapes[member] = member.Layer.ComputeOutputShape(inputShapes);
        }
        return shapes[group.Output];
    }

    /// <summary>The model this plan runs.</summary>
    public Model Model { get; }

    /// <summary>The backend it runs on.</summary>
    public IBackend Backend { get; }

    /// <summary>Images per run.</summary>
    public int Batch { get; }

    /// <summary>
    /// Whether layers were fused into single ops (convolution + BatchNormalization + activation + residual add,
    /// squeeze-and-excitation); the outputs of layers inside a fused step are then not kept.
    /// </summary>
    public bool IsFused { get; }

    /// <summary>The input buffer: write the batch here before <see cref="Run()"/>.</summary>
    public IDeviceBuffer Input => _buffers[Model.Input];

    /// <summary>The output buffer, valid after <see cref="Run()"/>.</summary>
    public IDeviceBuffer Output => _buffers[Model.Output];

    /// <summary>The prepared layers in execution order.</summary>
    public IReadOnlyList<PlanStep> Steps => _steps;

    /// <summary>Runs every layer once. Allocates nothing.</summary>
    public void Run()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var step in _steps) step.Prepared.Run();
    }

    /// <summary>Copies <paramref name="input"/> in, runs, and copies the output to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the plan's input or output.</exception>
    public void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        Input.CopyFrom(input);
        Run();
        Output.CopyTo(output);
    }

    /// <summary>Runs every layer once, timing each (synchronizing the backend after each step); see <see cref="PlanStep.LastMilliseconds"/>.</summary>
    public void RunProfiled()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var step in _steps)
        {
            long start = Stopwatch.GetTimestamp();
            step.Prepared.Run();
            Backend.Synchronize();
            step.LastMilliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
    }

    /// <summary>The output buffer of the layer named <paramref name="layerName"/> (the input layer's name gives the input).</summary>
    /// <exception cref="KeyNotFoundException">No layer has that name.</exception>
    /// <exception cref="InvalidOperationException">The layer runs inside a fused step, whose intermediate outputs are not kept.</exception>
    public IDeviceBuffer GetActivation(string layerName)
    {
        if (layerName == Model.Input.Name) return Input;
        if (!_stepsByName.TryGetValue(layerName, out var step)) throw new KeyNotFoundException($"{Model.Name}: no layer named '{layerName}'.");
        if (step.Name != layerName)
            throw new InvalidOperationException($"{Model.Name}: layer '{layerName}' runs fused into '{step.Name}', so its output is not kept; create the plan with fuse: false to read it.");
        return step.Output;
    }

    /// <summary>
    /// Releases the prepared ops and activation buffers (not the model's weights), and the backend when the plan made it
    /// (<see cref="Model.To"/>).
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var step in _steps) step.Prepared.Dispose();
        foreach (var buffer in _buffers.Values) buffer.Dispose();
        foreach (var weight in _ownedWeights) weight.Dispose();
        if (_ownsBackend) Backend.Dispose();
    }
}
