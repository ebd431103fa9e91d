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
    private bool _disposed;

    internal ExecutionPlan(Model model, IBackend backend, int batch)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        Model = model;
        Backend = backend;
        Batch = batch;
        var steps = new List<PlanStep>();
        try
        {
            _buffers[model.Input] = backend.Allocate(model.Input.OutputShape.WithBatch(batch));
            foreach (var node in model.Nodes)
            {
                if (node == model.Input) continue;
                var layer = node.Layer;
                var inputShapes = node.Inputs.Select(n => _buffers[n].Shape).ToArray();
                var outputShape = layer.ComputeOutputShape(inputShapes);
                var op = layer.CreateOp(inputShapes);
                if (!backend.Supports(op, out var reason))
                    throw new BackendException($"{layer.Name}: {backend.Name} cannot run {op.GetType().Name}: {reason}.");
                var output = backend.Allocate(outputShape);
                _buffers[node] = output;
                var binding = new OpBinding(layer.Name, node.Inputs.Select(n => _buffers[n]).ToArray(), output,
                                            layer.Weights.Select(w => w.Value).ToArray());
                var prepared = backend.Prepare(op, binding);
                var step = new PlanStep(node, op, prepared, inputShapes, output, layer.CountMultiplyAccumulates(inputShapes, outputShape));
                steps.Add(step);
                _stepsByName[layer.Name] = step;
            }
        }
        catch
        {
            foreach (var step in steps) step.Prepared.Dispose();
            foreach (var buffer in _buffers.Values) buffer.Dispose();
            throw;
        }
        _steps = steps.ToArray();
    }

    /// <summary>The model this plan runs.</summary>
    public Model Model { get; }

    /// <summary>The backend it runs on.</summary>
    public IBackend Backend { get; }

    /// <summary>Images per run.</summary>
    public int Batch { get; }

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
    public IDeviceBuffer GetActivation(string layerName)
    {
        if (layerName == Model.Input.Name) return Input;
        return _stepsByName.TryGetValue(layerName, out var step)
            ? step.Output
            : throw new KeyNotFoundException($"{Model.Name}: no layer named '{layerName}'.");
    }

    /// <summary>Releases the prepared ops and activation buffers (not the model's weights).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var step in _steps) step.Prepared.Dispose();
        foreach (var buffer in _buffers.Values) buffer.Dispose();
    }
}
