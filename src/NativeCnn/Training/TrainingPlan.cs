using System.Diagnostics;
using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Models;

namespace NativeCnn.Training;

/// <summary>
/// A model prepared for training at one batch size: every layer's training op, unfused, bound to its output buffer.
/// Layer outputs and their gradients share memory by liveness on one timeline of the step (an output is alive until the
/// last forward or backward pass that reads it, a gradient from its last reader's backward pass to its own layer's), or
/// keep one buffer each on request. <see cref="Step"/> runs one training step: forward in training mode, the loss and
/// its gradient, backward in reverse order, the optimizer update.
/// </summary>
/// <remarks>
/// <para>
/// Gradients are added, never overwritten: a tensor read by several layers (a residual or squeeze-and-excitation
/// branch) or a layer called twice sums what each use contributes; each step starts from zero. Backward stops where
/// nothing before a tensor is trained, so a frozen base costs only its forward pass.
/// </para>
/// <para>
/// Threading: a plan runs one step at a time; a call while another is running on another thread throws
/// <see cref="InvalidOperationException"/>. Plans over the same model must not step concurrently either, since they
/// update the same weights. Nothing is allocated per step.
/// </para>
/// <para>
/// Inference plans fold weights when they are prepared: a training step drops <see cref="Model"/>'s cached
/// <see cref="Model.Predict"/> plan, but plans made with <see cref="Model.CreatePlan"/>, and those of other models that
/// share these layers, must be created again (or <see cref="Model.InvalidatePlans"/> called) to see the new weights.
/// </para>
/// </remarks>
public sealed class TrainingPlan : IDisposable
{
    private readonly Node[] _nodes;
    private readonly ITrainingOp[] _ops;
    private readonly Dictionary<Node, IDeviceBuffer> _activations = [];
    private readonly Dictionary<Node, IDeviceBuffer> _gradients = [];
    private readonly List<IDeviceBuffer> _slots = [];
    private readonly HashSet<Node> _overwrittenActivations = [];
    private readonly HashSet<Node> _overwrittenGradients = [];
    private readonly IDeviceBuffer[][] _clearBeforeBackward;
    private readonly bool[] _runsBackward;
    private readonly long _bufferBytes, _gradientBytes;
    private readonly bool _ownsGradients;
    private readonly IDeviceBuffer _input, _output;
    private readonly float[] _predictions, _lossGradient;
    private readonly long[] _forwardTicks, _backwardTicks;
    private int _running;
    private bool _disposed;

    /// <summary>Prepares <paramref name="model"/> for training steps of <paramref name="batch"/> samples on <paramref name="backend"/>.</summary>
    /// <param name="model">The model; its layers' <see cref="Layer.Trainable"/> flags are read now.</param>
    /// <param name="backend">A backend that trains, e.g. <c>CpuBackend</c>.</param>
    /// <param name="batch">Samples per step.</param>
    /// <param name="loss">The loss of the model's output.</param>
    /// <param name="optimizer">Updates the weights after each backward pass; null for gradients only (<see cref="ComputeGradients"/>).
    /// It is built on the trained weights here unless it already is (on the same <paramref name="gradients"/>).</param>
    /// <param name="gradients">Gradient buffers to share with other plans of the same model, or null for the plan's own.</param>
    /// <param name="keepActivationGradients">
    /// Give every layer output's gradient its own buffer, so that <see cref="GetActivationGradient"/> can read each one after
    /// a backward pass. By default (false) gradients share buffers by liveness: a layer output's gradient lives from the
    /// backward pass of its last reader to its own layer's, and buffers whose lives do not overlap share memory.
    /// </param>
    /// <param name="keepActivations">
    /// Give every layer output its own buffer, so that <see cref="GetActivation"/> can read each one after a step. By
    /// default (false) a layer output lives from its layer's forward pass to the last forward or backward pass that
    /// reads it (the backend says which backward passes read which forward tensors,
    /// <see cref="ITrainingBackend.BackwardReads"/>), and its memory then holds later outputs or gradients. The model's
    /// input and output are always kept.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">The batch is below 1.</exception>
    /// <exception cref="BackendException">A layer cannot be trained on this backend; the message names it.</exception>
    public TrainingPlan(Model model, ITrainingBackend backend, int batch, Loss loss, Optimizer? optimizer = null, ModelGradients? gradients = null,
                        bool keepActivationGradients = false, bool keepActivations = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (gradients is not null && gradients.Model != model) throw new ArgumentException($"the gradients belong to {gradients.Model.Name}, not {model.Name}", nameof(gradients));
        Model = model;
        Batch = batch;
        Loss = loss;
        Optimizer = optimizer;
        _ownsGradients = gradients is null;
        Gradients = gradients ?? new ModelGradients(model);
        _nodes = [.. model.Nodes.Where(n => n != model.Input)];
        try
        {
            var descriptors = _nodes.Select(n => Describe(backend, n, batch)).ToArray();
            var needsGradient = NodesNeedingGradient(model, Gradients);
            _runsBackward = [.. _nodes.Select(needsGradient.Contains)];
            // The output's gradient is where the loss writes, whether or not anything is trained.
            needsGradient.Add(model.Output);
            var reads = _nodes.Select((n, i) => backend.BackwardReads(descriptors[i], n.Inputs.Count)).ToArray();
            _clearBeforeBackward = AllocateBuffers(backend, batch, needsGradient, reads, keepActivations, keepActivationGradients,
                                                   out _bufferBytes, out _gradientBytes);
            _ops = new ITrainingOp[_nodes.Length];
            for (int i = 0; i < _nodes.Length; i++) _ops[i] = Prepare(backend, _nodes[i], descriptors[i]);
        }
        catch
        {
            DisposeBuffers();
            throw;
        }
        _input = _activations[model.Input];
        _output = _activations[model.Output];
        _predictions = new float[_output.Shape.ElementCount];
        _lossGradient = new float[_output.Shape.ElementCount];
        _forwardTicks = new long[_nodes.Length];
        _backwardTicks = new long[_nodes.Length];
        if (optimizer is not null && !optimizer.IsBuilt) optimizer.Build(Gradients.Variables);
    }

    /// <summary>The model trained.</summary>
    public Model Model { get; }

    /// <summary>Samples per step.</summary>
    public int Batch { get; }

    /// <summary>The loss.</summary>
    public Loss Loss { get; }

    /// <summary>The optimizer, or null for a plan that only computes gradients.</summary>
    public Optimizer? Optimizer { get; }

    /// <summary>The gradients of the trained weights after the last backward pass, by Keras path (<c>conv1/kernel</c>).</summary>
    public ModelGradients Gradients { get; }

    /// <summary>
    /// Bytes of the layer outputs and output gradients the plan holds (float32), after sharing by liveness (see the
    /// constructor); the ops' own workspaces (pre-activations, per-thread partial sums) are not included.
    /// </summary>
    public long BufferBytes => _bufferBytes;

    /// <summary>
    /// Bytes of the buffers (of <see cref="BufferBytes"/>) that hold layer output gradients; by default some of them
    /// hold layer outputs earlier in the step.
    /// </summary>
    public long GradientBytes => _gradientBytes;

    /// <summary>The shape of one step's input, batch included.</summary>
    public TensorShape InputShape => _input.Shape;

    /// <summary>The shape of the model output for one step, batch included.</summary>
    public TensorShape OutputShape => _output.Shape;

    /// <summary>The number of target values one step takes (<see cref="Loss.TargetsPerSample"/> per sample).</summary>
    public int TargetLength => checked(Batch * Loss.TargetsPerSample(_predictions.Length / Batch));

    /// <summary>
    /// One training step on <paramref name="inputs"/> (NHWC, <see cref="InputShape"/>) and <paramref name="targets"/>:
    /// forward in training mode, loss, backward, and the optimizer update. Returns the mean loss over the batch (before the update).
    /// </summary>
    /// <exception cref="InvalidOperationException">The plan has no optimizer, or another step is running.</exception>
    /// <exception cref="ArgumentException">The inputs or targets have the wrong length.</exception>
    public float Step(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        if (Optimizer is null) throw new InvalidOperationException($"{Model.Name}: this training plan has no optimizer; use ComputeGradients.");
        using var turn = Enter();
        float loss = Backpropagate(inputs, targets);
        Optimizer.Apply();
        return loss;
    }

    /// <summary>
    /// Forward in training mode, loss and backward, without an update: the gradients are then in <see cref="Gradients"/>
    /// (and <see cref="GetActivationGradient"/>). Moving statistics of BatchNormalization still move, as in Keras's
    /// training step. Returns the mean loss.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another step is running.</exception>
    /// <exception cref="ArgumentException">The inputs or targets have the wrong length.</exception>
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        using var turn = Enter();
        return Backpropagate(inputs, targets);
    }

    /// <summary>
    /// Runs the model forward, in training mode or as at inference (moving statistics, no dropout), and returns the
    /// output, valid until the next call. With <paramref name="targets"/>, also returns the mean loss (else NaN).
    /// </summary>
    /// <exception cref="InvalidOperationException">Another step is running.</exception>
    public float Forward(ReadOnlySpan<float> inputs, bool training, ReadOnlySpan<float> targets, out ReadOnlySpan<float> outputs)
    {
        using var turn = Enter();
        RunForward(inputs, training);
        outputs = _predictions;
        return targets.IsEmpty ? float.NaN : Loss.Compute(_predictions, targets, Batch, default);
    }

    /// <summary>
    /// Whether each layer's forward and backward pass is timed (two timestamps per layer and pass, nothing allocated);
    /// <see cref="LayerTimes"/> then holds the last pass of each. Off by default.
    /// </summary>
    public bool TimesLayers { get; set; }

    /// <summary>
    /// Each layer call's time in the last forward and backward pass while <see cref="TimesLayers"/> was on, in model order
    /// (a new list on each read). Backward is zero for a layer that did not run backward (nothing trained at or before it);
    /// the optimizer update is not a layer and is not included.
    /// </summary>
    public IReadOnlyList<TrainingLayerTime> LayerTimes =>
        [.. _nodes.Select((node, i) => new TrainingLayerTime(node.Name, node.Layer.ClassName,
            Stopwatch.GetElapsedTime(0, _forwardTicks[i]).TotalMilliseconds, Stopwatch.GetElapsedTime(0, _backwardTicks[i]).TotalMilliseconds))];

    /// <summary>The model output of the last forward pass (valid until the next call).</summary>
    public ReadOnlySpan<float> LastOutputs => _predictions;

    /// <summary>The output of layer <paramref name="layerName"/> (its last call) from the last forward pass, batch included.</summary>
    /// <remarks>
    /// The model's input and output are always readable; other layer outputs are when their memory is not shared with
    /// later buffers of the step, and all of them are with <c>keepActivations: true</c> (see the constructor).
    /// </remarks>
    /// <exception cref="KeyNotFoundException">The model has no such layer.</exception>
    /// <exception cref="InvalidOperationException">
    /// The output's buffer is reused later in the step (by a later output or a gradient); create the plan with
    /// <c>keepActivations: true</c> to read every one.
    /// </exception>
    public float[] GetActivation(string layerName)
    {
        var node = FindNode(layerName);
        if (_overwrittenActivations.Contains(node))
            throw new InvalidOperationException($"{Model.Name}: the output of '{layerName}' shares memory with buffers used after it in a step; create the training plan with keepActivations: true to read it.");
        return Read(_activations[node]);
    }

    /// <summary>The loss gradient with respect to the output of <paramref name="layerName"/> from the last backward pass.</summary>
    /// <exception cref="KeyNotFoundException">The model has no such layer, or nothing before it is trained (no gradient flows there).</exception>
    /// <exception cref="InvalidOperationException">
    /// The gradient's buffer was reused by a gradient computed later in the backward pass; create the plan with
    /// <c>keepActivationGradients: true</c> to read every one.
    /// </exception>
    public float[] GetActivationGradient(string layerName)
    {
        var node = FindNode(layerName);
        if (!_gradients.TryGetValue(node, out var gradient))
            throw new KeyNotFoundException($"{Model.Name}: no gradient reaches '{layerName}': nothing at or before it is trained.");
        if (_overwrittenGradients.Contains(node))
            throw new InvalidOperationException($"{Model.Name}: the gradient of '{layerName}' shares memory with gradients computed after it; create the training plan with keepActivationGradients: true to read it.");
        return Read(gradient);
    }

    private float Backpropagate(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        if (targets.Length != TargetLength)
            throw new ArgumentException($"{Model.Name}: expected {TargetLength} targets for a batch of {Batch}, got {targets.Length}.", nameof(targets));
        RunForward(inputs, training: true);
        float loss = Loss.Compute(_predictions, targets, Batch, _lossGradient);
        Gradients.Clear();
        _gradients[Model.Output].CopyFrom(_lossGradient);
        for (int i = _ops.Length - 1; i >= 0; i--)
        {
            if (!_runsBackward[i]) continue;
            // Gradients are summed into, and a shared buffer still holds an earlier gradient: each starts from zero
            // just before the first layer that adds to it runs backward.
            foreach (var gradient in _clearBeforeBackward[i]) ClearBuffer(gradient);
            if (!TimesLayers)
            {
                _ops[i].Backward();
                continue;
            }
            long start = Stopwatch.GetTimestamp();
            _ops[i].Backward();
            _backwardTicks[i] = Stopwatch.GetTimestamp() - start;
        }
        return loss;
    }

    private void RunForward(ReadOnlySpan<float> inputs, bool training)
    {
        if (inputs.Length != _input.Shape.ElementCount)
            throw new ArgumentException($"{Model.Name}: expected {_input.Shape.ElementCount} input values {_input.Shape}, got {inputs.Length}.", nameof(inputs));
        _input.CopyFrom(inputs);
        if (TimesLayers) Array.Clear(_backwardTicks);
        for (int i = 0; i < _ops.Length; i++)
        {
            if (!TimesLayers)
            {
                _ops[i].Forward(training);
                continue;
            }
            long start = Stopwatch.GetTimestamp();
            _ops[i].Forward(training);
            _forwardTicks[i] = Stopwatch.GetTimestamp() - start;
        }
        _output.CopyTo(_predictions);
        // A training-mode pass moves BatchNormalization's moving statistics (and a step then the weights): the
        // model's cached Predict plan, which folded them when it was prepared, is stale.
        if (training) Model.InvalidatePlans();
    }

    // Gradient buffers are host tensors while only the CPU trains; a device backend will bring its own clear.
    private void ClearBuffer(IDeviceBuffer buffer)
    {
        if (buffer is HostBuffer host)
        {
            host.Tensor.Span.Clear();
            return;
        }
        throw new NotSupportedException($"{Model.Name}: training plans need host buffers (the CPU backend) for now.");
    }

    private static OpDescriptor Describe(ITrainingBackend backend, Node node, int batch)
    {
        var layer = node.Layer;
        var op = layer.CreateTrainingOp([.. node.Inputs.Select(n => n.OutputShape.WithBatch(batch))]);
        if (!backend.SupportsTraining(op, out string? reason))
            throw new BackendException($"{node.Name} ({layer.ClassName}): {reason}");
        return op;
    }

    private ITrainingOp Prepare(ITrainingBackend backend, Node node, OpDescriptor op)
    {
        var layer = node.Layer;
        var binding = new TrainingBinding(
            node.Name,
            [.. node.Inputs.Select(n => _activations[n])],
            _activations[node],
            [.. node.Inputs.Select(n => _gradients.GetValueOrDefault(n))],
            // A layer with nothing trained at or before it never runs backward; its own output stands in for the gradient slot.
            _gradients.TryGetValue(node, out var outputGradient) ? outputGradient : _activations[node],
            [.. layer.Weights.Select(w => w.Value)],
            [.. layer.Weights.Select(w => Gradients.Find(w))]);
        return backend.PrepareTraining(op, binding);
    }

    /// <summary>
    /// Allocates the layer outputs and the gradients of <paramref name="needsGradient"/>'s outputs, sharing memory by
    /// liveness, and returns, per op, the gradients to clear before its backward pass.
    /// </summary>
    /// <remarks>
    /// One step's time: the input is copied in at 0, op i runs forward at <c>i + 1</c>, the loss at <c>n + 1</c>, and op
    /// i backward at <c>2n + 1 - i</c>. A layer output is alive from its forward pass to the last forward pass that reads
    /// it and the last backward pass that reads it (<paramref name="reads"/>; only ops that run backward count). A
    /// gradient is first added to by its last reader's backward pass and last read by its own layer's; the output's
    /// gradient is written by the loss. Lifetimes are closed, so what one pass reads and writes never share memory.
    /// Kept buffers (the model's input and output, and all outputs or gradients on request) live for the whole step.
    /// </remarks>
    private IDeviceBuffer[][] AllocateBuffers(ITrainingBackend backend, int batch, HashSet<Node> needsGradient, BackwardReads[] reads,
                                              bool keepActivations, bool keepGradients, out long bufferBytes, out long gradientBytes)
    {
        int n = _nodes.Length, loss = n + 1, end = 2 * n + 2;
        int Forward(int i) => i + 1;
        int Backward(int i) => 2 * n + 1 - i;
        var index = _nodes.Select((node, i) => (node, i)).ToDictionary(p => p.node, p => p.i);

        // Activations first (the model input included), then gradients, in model order.
        var activationNodes = Model.Nodes.ToArray();
        var gradientNodes = _nodes.Where(needsGradient.Contains).ToArray();
        int count = activationNodes.Length + gradientNodes.Length;
        var sizes = new long[count];
        var first = new int[count];
        var last = new int[count];
        for (int a = 0; a < activationNodes.Length; a++)
        {
            var node = activationNodes[a];
            sizes[a] = node.OutputShape.WithBatch(batch).ElementCount;
            bool isInput = !index.TryGetValue(node, out int own);
            first[a] = last[a] = isInput ? 0 : Forward(own);
            if (!isInput && _runsBackward[own] && reads[own].Output) last[a] = Backward(own);
            if (keepActivations || isInput || node == Model.Output) (first[a], last[a]) = (0, end);
        }
        for (int j = 0; j < n; j++)
        {
            var inputs = _nodes[j].Inputs;
            for (int k = 0; k < inputs.Count; k++)
            {
                int a = Array.IndexOf(activationNodes, inputs[k]);
                last[a] = Math.Max(last[a], Forward(j));
                if (_runsBackward[j] && reads[j].Inputs[k]) last[a] = Math.Max(last[a], Backward(j));
            }
        }
        var lastReader = new Dictionary<Node, int>();
        for (int j = 0; j < n; j++)
            foreach (var input in _nodes[j].Inputs)
                if (needsGradient.Contains(input)) lastReader[input] = Math.Max(lastReader.GetValueOrDefault(input, -1), j);
        for (int g = 0; g < gradientNodes.Length; g++)
        {
            var node = gradientNodes[g];
            int b = activationNodes.Length + g;
            sizes[b] = node.OutputShape.WithBatch(batch).ElementCount;
            first[b] = node == Model.Output ? loss : Backward(lastReader.GetValueOrDefault(node, index[node]));
            last[b] = Backward(index[node]);
            if (keepGradients) (first[b], last[b]) = (0, end);
        }

        var memory = ActivationMemoryPlan.ForLifetimes(sizes, first, last);
        bufferBytes = memory.SlotSizes.Sum() * sizeof(float);
        // Each slot is allocated with the shape of its largest buffer; the others are views of it.
        var slots = new IDeviceBuffer?[memory.SlotSizes.Count];
        TensorShape ShapeOf(int b) => (b < activationNodes.Length ? activationNodes[b] : gradientNodes[b - activationNodes.Length]).OutputShape.WithBatch(batch);
        for (int b = 0; b < count; b++)
        {
            int slot = memory.SlotOf[b];
            if (slots[slot] is null && sizes[b] == memory.SlotSizes[slot])
            {
                slots[slot] = backend.Allocate(ShapeOf(b));
                _slots.Add(slots[slot]!);
            }
        }
        IDeviceBuffer BufferOf(int b)
        {
            var shape = ShapeOf(b);
            var slot = slots[memory.SlotOf[b]]!;
            return slot.Shape == shape ? slot : slot.View(shape);
        }
        for (int a = 0; a < activationNodes.Length; a++)
        {
            _activations[activationNodes[a]] = BufferOf(a);
            if (memory.OverwrittenBy[a] >= 0) _overwrittenActivations.Add(activationNodes[a]);
        }
        var clear = _nodes.Select(_ => new List<IDeviceBuffer>()).ToArray();
        var gradientSlots = new HashSet<int>();
        for (int g = 0; g < gradientNodes.Length; g++)
        {
            var node = gradientNodes[g];
            int b = activationNodes.Length + g;
            var buffer = BufferOf(b);
            _gradients[node] = buffer;
            gradientSlots.Add(memory.SlotOf[b]);
            if (memory.OverwrittenBy[b] >= 0) _overwrittenGradients.Add(node);
            if (node != Model.Output) clear[lastReader.GetValueOrDefault(node, index[node])].Add(buffer);
        }
        gradientBytes = gradientSlots.Sum(slot => memory.SlotSizes[slot]) * sizeof(float);
        return [.. clear.Select(c => c.ToArray())];
    }

    // A tensor needs its gradient when its own layer or any layer before it has a trained weight.
    private static HashSet<Node> NodesNeedingGradient(Model model, ModelGradients gradients)
    {
        var needs = new HashSet<Node>();
        foreach (var node in model.Nodes)
        {
            if (node == model.Input) continue;
            bool trained = node.Layer.Weights.Any(w => gradients.Find(w) is not null);
            if (trained || node.Inputs.Any(needs.Contains)) needs.Add(node);
        }
        return needs;
    }

    private Node FindNode(string layerName)
    {
        ArgumentNullException.ThrowIfNull(layerName);
        for (int i = _nodes.Length - 1; i >= 0; i--)
            if (_nodes[i].Name == layerName) return _nodes[i];
        if (Model.Input.Name == layerName) return Model.Input;
        throw new KeyNotFoundException($"{Model.Name}: no layer '{layerName}'.");
    }

    private static float[] Read(IDeviceBuffer buffer)
    {
        var values = new float[buffer.Shape.ElementCount];
        buffer.CopyTo(values);
        return values;
    }

    private Turn Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _running, 1) != 0)
            throw new InvalidOperationException($"{Model.Name}: a training plan runs one step at a time; another thread is running one.");
        return new Turn(this);
    }

    private readonly struct Turn(TrainingPlan plan) : IDisposable
    {
        public void Dispose() => Volatile.Write(ref plan._running, 0);
    }

    /// <summary>Frees the ops and buffers (and the gradients, unless they were given).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var op in _ops) op?.Dispose();
        DisposeBuffers();
    }

    private void DisposeBuffers()
    {
        foreach (var buffer in _slots) buffer.Dispose();
        if (_ownsGradients) Gradients.Dispose();
    }
}
