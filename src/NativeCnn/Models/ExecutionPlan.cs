using System.Diagnostics;
using NativeCnn.Backends;
using NativeCnn.Layers;

namespace NativeCnn.Models;

/// <summary>
/// A model prepared on a backend for one batch size: every activation buffer allocated and every op prepared up front,
/// so <see cref="Run()"/> allocates nothing. A fused plan lets layers whose outputs are never alive at the same time
/// share memory (<see cref="ActivationBytes"/>); a plan made with <c>fuse: false</c> keeps every layer's output readable
/// through <see cref="GetActivation"/>. How a fused plan schedules its batch (one plan per image thread, passes of a few
/// images: <see cref="ImageThreads"/>, <see cref="ImagesPerPass"/>) is the backend's answer (<see cref="IBackend.ExecutionStrategy"/>).
/// </summary>
/// <remarks>
/// Threading: a plan runs one batch at a time. <see cref="Run()"/>, <see cref="Run(ReadOnlySpan{float}, Span{float})"/>
/// and <see cref="RunProfiled"/> called while the plan is already running on another thread throw
/// <see cref="InvalidOperationException"/> at once (the run in progress is unaffected); they never wait and never share
/// the plan's buffers. Its <see cref="Input"/>, <see cref="Output"/> and activation buffers belong to the thread that
/// runs it: use one plan per thread (each on its own backend, or on one CPU backend, whose worker pool lets plans on
/// different threads take turns), or <see cref="Model.Predict"/>, which may be called from any number of threads.
/// <see cref="Dispose"/> during a run on another thread releases the plan's memory when that run returns.
/// </remarks>
public sealed class ExecutionPlan : IDisposable
{
    // Host buffers for the whole batch, when the steps run it in shares (image threads or passes).
    private readonly HostBuffer? _batchInput, _batchOutput;
    private readonly ExecutionPlan[]? _imagePlans;
    private readonly IPreparedOp? _imageRun, _imageRunProfiled;
    private readonly Dictionary<Node, IDeviceBuffer> _buffers = [];
    private readonly Dictionary<string, PlanStep> _stepsByName = new(StringComparer.Ordinal);
    private readonly Dictionary<PlanStep, PlanStep> _overwrittenBy = [];
    private readonly List<IDeviceBuffer> _allocations = [];
    private readonly PlanStep[] _steps;
    private readonly List<Tensor> _ownedWeights = [];
    private readonly bool _ownsBackend;
    // Idle, Running, Disposed, or DisposeRequested (disposed while running: the run releases the memory when it ends).
    private int _state;
    private const int Idle = 0, Running = 1, Disposed = 2, DisposeRequested = 3;

    // reuseBuffers: whether steps share activation memory; by default fused plans do and unfused ones do not.
    // imagesPerPass: images each pass of Run() computes, a divisor of batch; null picks it and whether the images run on
    // separate threads (see ChooseImageThreads, ChooseImagesPerPass). macsScale: this plan computes 1/macsScale of its
    // parent's batch, whose totals its steps report.
    internal ExecutionPlan(Model model, IBackend backend, int batch, bool fuse, bool ownsBackend = false, bool? reuseBuffers = null,
                           int? imagesPerPass = null, int macsScale = 1)
    {
        _ownsBackend = ownsBackend;
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        Model = model;
        Backend = backend;
        Batch = batch;
        IsFused = fuse;
        ImageThreads = imagesPerPass is null ? ChooseImageThreads(backend, batch, fuse) : 1;
        if (ImageThreads > 1)
        {
            _imagePlans = PlanImageThreads(model, batch, reuseBuffers, out _batchInput, out _batchOutput);
            _steps = _imagePlans[0]._steps;
            ImagesPerPass = _imagePlans[0].ImagesPerPass;
            ActivationBytes = _imagePlans.Sum(p => p.ActivationBytes) + (_batchInput.Shape.ElementCount + _batchOutput.Shape.ElementCount) * sizeof(float);
            ActivationBytesWithoutReuse = _imagePlans.Sum(p => p.ActivationBytesWithoutReuse);
            var strategy = backend.ExecutionStrategy!;
            try
            {
                _imageRun = strategy.PrepareConcurrentRun([.. Enumerable.Range(0, ImageThreads).Select(i => new ImageShare(this, i, profiled: false))]);
                _imageRunProfiled = strategy.PrepareConcurrentRun([.. Enumerable.Range(0, ImageThreads).Select(i => new ImageShare(this, i, profiled: true))]);
            }
            catch
            {
                _imageRun?.Dispose();
                foreach (var plan in _imagePlans) plan.Dispose();
                _batchInput.Dispose();
                _batchOutput.Dispose();
                throw;
            }
            return;
        }
        ImagesPerPass = imagesPerPass ?? ChooseImagesPerPass(model, backend, batch, fuse);
        if (ImagesPerPass < 1 || batch % ImagesPerPass != 0)
            throw new ArgumentOutOfRangeException(nameof(imagesPerPass), $"{ImagesPerPass} images per pass do not divide a batch of {batch}.");
        if (ImagesPerPass < batch && backend.ExecutionStrategy is null)
            throw new ArgumentOutOfRangeException(nameof(imagesPerPass), $"{backend.Name} runs a batch in one pass; passes are for backends with an execution strategy (the CPU's).");
        int passes = batch / ImagesPerPass;
        batch = ImagesPerPass; // the steps below are prepared for one pass
        var steps = new List<PlanStep>();
        try
        {
            // Every step and shape first, so that memory can be planned over the whole graph before anything is allocated.
            var shapes = new Dictionary<Node, TensorShape> { [model.Input] = model.Input.OutputShape.WithBatch(batch) };
            var groups = new List<(Node Node, LayerFusion.Group Group)>();
            foreach (var (node, create) in fuse ? LayerFusion.Fused(model, op => backend.Supports(op, out _)) : LayerFusion.Unfused(model))
            {
                var group = create(n => shapes[n]);
                _ownedWeights.AddRange(group.OwnedWeights);
                if (!backend.Supports(group.Op, out var reason))
                    throw new BackendException($"{node.Name}: {backend.Name} cannot run {group.Op.GetType().Name}: {reason}.");
                shapes[node] = ComputeOutputShape(group, shapes);
                groups.Add((node, group));
            }

            var stepOf = groups.Select((g, i) => (g.Node, i)).ToDictionary(p => p.Node, p => p.i);
            var sizes = groups.Select(g => shapes[g.Node].ElementCount).ToArray();
            ActivationMemoryPlan memory;
            try
            {
                memory = (reuseBuffers ?? fuse)
                    ? ActivationMemoryPlan.Shared(sizes,
                        groups.Select(g => (IReadOnlyList<int>)g.Group.Inputs.Where(stepOf.ContainsKey).Select(n => stepOf[n]).ToArray()).ToArray(),
                        stepOf.GetValueOrDefault(model.Output, -1))
                    : ActivationMemoryPlan.Separate(sizes);
            }
            catch (ArgumentException e) when (groups.Count > 0)
            {
                var largest = groups[Array.IndexOf(sizes, sizes.Max())].Node;
                throw new ArgumentException($"{model.Name} at batch {batch}: {e.Message} The largest is the output of layer '{largest.Name}', {shapes[largest]}.", e);
            }
            if (passes > 1)
            {
                // Checked like every other activation before anything is allocated: these hold the whole batch.
                ActivationMemoryPlan.CheckOutputFits(model.Input.Name, model.Input.OutputShape.WithBatch(Batch));
                ActivationMemoryPlan.CheckOutputFits(model.Output.Name, model.Output.OutputShape.WithBatch(Batch));
                _batchInput = new HostBuffer(model.Input.OutputShape.WithBatch(Batch));
                _batchOutput = new HostBuffer(model.Output.OutputShape.WithBatch(Batch));
            }
            ActivationBytesWithoutReuse = passes * (shapes[model.Input].ElementCount + sizes.Sum()) * sizeof(float);
            ActivationBytes = (shapes[model.Input].ElementCount + memory.SlotSizes.Sum()
                               + (passes > 1 ? _batchInput!.Shape.ElementCount + _batchOutput!.Shape.ElementCount : 0)) * sizeof(float);

            _buffers[model.Input] = Allocate(shapes[model.Input]);
            // Each slot is allocated with the shape of its largest output; the others are views of it.
            var slots = new IDeviceBuffer[memory.SlotSizes.Count];
            for (int i = 0; i < groups.Count; i++)
            {
                int slot = memory.SlotOf[i];
                if (slots[slot] is null && sizes[i] == memory.SlotSizes[slot]) slots[slot] = Allocate(shapes[groups[i].Node]);
            }

            for (int i = 0; i < groups.Count; i++)
            {
                var (node, group) = groups[i];
                var outputShape = shapes[node];
                var slot = slots[memory.SlotOf[i]];
                var output = slot.Shape == outputShape ? slot : slot.View(outputShape);
                _buffers[node] = output;
                var binding = new OpBinding(node.Name, group.Inputs.Select(n => _buffers[n]).ToArray(), output, group.Weights);
                var prepared = backend.Prepare(group.Op, binding);
                long macs = macsScale * passes * group.Members.Sum(m => m.Layer.CountMultiplyAccumulates(
                    m.Inputs.Select(n => n.OutputShape.WithBatch(batch)).ToArray(), m.OutputShape.WithBatch(batch)));
                var step = new PlanStep(group, prepared, group.Inputs.Select(n => shapes[n]).ToArray(), output, macs);
                steps.Add(step);
                foreach (var member in group.Members) _stepsByName[member.Name] = step;
            }
            for (int i = 0; i < steps.Count; i++)
                if (memory.OverwrittenBy[i] >= 0) _overwrittenBy[steps[i]] = steps[memory.OverwrittenBy[i]];
        }
        catch
        {
            foreach (var step in steps) step.Prepared.Dispose();
            foreach (var buffer in _allocations) buffer.Dispose();
            foreach (var weight in _ownedWeights) weight.Dispose();
            _batchInput?.Dispose();
            _batchOutput?.Dispose();
            throw;
        }
        _steps = steps.ToArray();
    }

    /// <summary>
    /// The backend's choice (<see cref="IExecutionStrategy.ChooseImageThreads"/>) for fused plans, 1 for the others (they
    /// keep every layer's output for the whole batch) and for backends without a strategy.
    /// </summary>
    /// <exception cref="BackendException">The backend's answer is less than 1 or does not divide the batch.</exception>
    private static int ChooseImageThreads(IBackend backend, int batch, bool fuse)
    {
        if (!fuse || backend.ExecutionStrategy is not { } strategy) return 1;
        int threads = strategy.ChooseImageThreads(batch);
        return threads >= 1 && batch % threads == 0 ? threads
            : throw new BackendException($"{backend.Name} chose {threads} image threads, which do not divide a batch of {batch}.");
    }

    /// <summary>One plan per thread, each on its own backend from the strategy (the CPU's: one thread), for its share of the batch.</summary>
    private ExecutionPlan[] PlanImageThreads(Model model, int batch, bool? reuseBuffers, out HostBuffer batchInput, out HostBuffer batchOutput)
    {
        var plans = new List<ExecutionPlan>();
        ActivationMemoryPlan.CheckOutputFits(model.Input.Name, model.Input.OutputShape.WithBatch(batch));
        ActivationMemoryPlan.CheckOutputFits(model.Output.Name, model.Output.OutputShape.WithBatch(batch));
        batchInput = new HostBuffer(model.Input.OutputShape.WithBatch(batch));
        batchOutput = new HostBuffer(model.Output.OutputShape.WithBatch(batch));
        try
        {
            for (int i = 0; i < ImageThreads; i++)
            {
                var single = Backend.ExecutionStrategy!.CreateImageThreadBackend();
                try
                {
                    plans.Add(new ExecutionPlan(model, single, batch / ImageThreads, fuse: true, ownsBackend: true, reuseBuffers,
                                                imagesPerPass: null, macsScale: ImageThreads));
                }
                catch
                {
                    single.Dispose();
                    throw;
                }
            }
            return plans.ToArray();
        }
        catch
        {
            foreach (var plan in plans) plan.Dispose();
            batchInput.Dispose();
            batchOutput.Dispose();
            throw;
        }
    }

    /// <summary>One image thread's work: copy its share of the batch in, run its plan, copy its outputs back.</summary>
    private sealed class ImageShare(ExecutionPlan parent, int index, bool profiled) : IPreparedOp
    {
        public void Run()
        {
            var plan = parent._imagePlans![index];
            parent.CopyInputShare(index, plan.Input);
            if (profiled) plan.RunProfiled();
            else plan.Run();
            parent.CopyOutputShare(index, plan.Output);
        }

        public void Dispose() { }
    }

    /// <summary>
    /// The whole batch in one pass, except for fused plans on a backend whose strategy asks for fewer images per pass
    /// (<see cref="IExecutionStrategy.ChooseImagesPerPass"/>, given one image's two largest activations): the largest
    /// divisor of the batch up to its answer (at least 1).
    /// </summary>
    private static int ChooseImagesPerPass(Model model, IBackend backend, int batch, bool fuse)
    {
        if (!fuse || batch == 1 || backend.ExecutionStrategy is not { } strategy) return batch;
        var largest = model.Nodes.Select(n => n.OutputShape.WithBatch(1).ElementCount * sizeof(float)).OrderDescending().Take(2).Sum();
        int fits = Math.Clamp(strategy.ChooseImagesPerPass(batch, largest), 1, batch);
        while (batch % fits != 0) fits--;
        return fits;
    }

    private IDeviceBuffer Allocate(TensorShape shape)
    {
        var buffer = Backend.Allocate(shape);
        _allocations.Add(buffer);
        return buffer;
    }

    /// <summary>Every member's output shape at the plan's batch size; the group's output is its last member's.</summary>
    private static TensorShape ComputeOutputShape(LayerFusion.Group group, Dictionary<Node, TensorShape> planShapes)
    {
        var shapes = new Dictionary<Node, TensorShape>();
        foreach (var member in group.Members)
        {
            var inputShapes = member.Inputs.Select(i => shapes.TryGetValue(i, out var s) ? s : planShapes[i]).ToArray();
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

    /// <summary>
    /// Images each pass computes: <see cref="Run()"/> runs every step on that many images at a time, copying them from
    /// <see cref="Input"/> and to <see cref="Output"/>. Equal to <see cref="Batch"/> except on one CPU thread, where a
    /// fused plan for a batch whose activations would not stay in cache takes it a few images at a time; with
    /// <see cref="ImageThreads"/> above 1, the passes of each thread's share.
    /// </summary>
    public int ImagesPerPass { get; }

    /// <summary>
    /// Threads that each run their own share of the batch through the whole plan (1: every step splits its work between
    /// the backend's threads). A fused plan on a multi-thread CPU backend does this when the batch gives every thread at
    /// least two images; each thread then has its own prepared ops, so packed weights take that many times the memory.
    /// <see cref="Steps"/> are then the first thread's, timed on it and counting the whole batch's multiply-accumulates.
    /// </summary>
    public int ImageThreads { get; }

    /// <summary>The input buffer: write the batch here before <see cref="Run()"/>.</summary>
    public IDeviceBuffer Input => _batchInput ?? _buffers[Model.Input];

    /// <summary>The output buffer, valid after <see cref="Run()"/>.</summary>
    public IDeviceBuffer Output => _batchOutput ?? _buffers[Model.Output];

    /// <summary>
    /// Bytes allocated for activations: the input, the output and the memory the steps share. A fused plan needs far
    /// less than <see cref="ActivationBytesWithoutReuse"/>, because a layer's output is dead once its last reader ran.
    /// </summary>
    public long ActivationBytes { get; }

    /// <summary>
    /// Bytes the activations of this plan's steps would take with one buffer each (what a plan made with
    /// <c>fuse: false</c> allocates, for its one step per layer).
    /// </summary>
    public long ActivationBytesWithoutReuse { get; }

    /// <summary>The prepared layers in execution order.</summary>
    public IReadOnlyList<PlanStep> Steps => _steps;

    /// <summary>Runs every layer once (on each pass's images). Allocates nothing.</summary>
    /// <exception cref="InvalidOperationException">The plan is running on another thread.</exception>
    /// <exception cref="ObjectDisposedException">The plan was disposed.</exception>
    public void Run() => RunClaimed(profiled: false);

    private void RunSteps()
    {
        if (_imageRun is not null)
        {
            _imageRun.Run();
            return;
        }
        if (_batchInput is null)
        {
            foreach (var step in _steps) step.Prepared.Run();
            return;
        }
        for (int pass = 0; pass < Batch / ImagesPerPass; pass++)
        {
            BeginPass(pass);
            foreach (var step in _steps) step.Prepared.Run();
            EndPass(pass);
        }
    }

    /// <summary>Copies pass <paramref name="pass"/>'s images from the batch input into the steps' input.</summary>
    private void BeginPass(int pass) => CopyInputShare(pass, _buffers[Model.Input]);

    /// <summary>Copies pass <paramref name="pass"/>'s outputs into the batch output.</summary>
    private void EndPass(int pass) => CopyOutputShare(pass, _buffers[Model.Output]);

    /// <summary>Copies share <paramref name="index"/> of the batch input, in shares of <paramref name="target"/>'s size, into it.</summary>
    private void CopyInputShare(int index, IDeviceBuffer target)
    {
        int length = checked((int)target.Shape.ElementCount);
        target.CopyFrom(_batchInput!.Tensor.Span.Slice(checked(index * length), length));
    }

    /// <summary>Copies <paramref name="source"/> into share <paramref name="index"/> of the batch output, in shares of its size.</summary>
    private void CopyOutputShare(int index, IDeviceBuffer source)
    {
        int length = checked((int)source.Shape.ElementCount);
        source.CopyTo(_batchOutput!.Tensor.Span.Slice(checked(index * length), length));
    }

    /// <summary>Copies <paramref name="input"/> in, runs, and copies the output to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">A span's length does not match the plan's input or output.</exception>
    /// <exception cref="InvalidOperationException">The plan is running on another thread.</exception>
    /// <exception cref="ObjectDisposedException">The plan was disposed.</exception>
    public void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        EnterRun();
        try
        {
            Input.CopyFrom(input);
            RunSteps();
            Output.CopyTo(output);
        }
        finally
        {
            ExitRun();
        }
    }

    /// <summary>Claims the plan for one run on this thread.</summary>
    private void EnterRun()
    {
        switch (Interlocked.CompareExchange(ref _state, Running, Idle))
        {
            case Idle: return;
            case Running:
                throw new InvalidOperationException($"{Model.Name}: this plan is already running on another thread; a plan runs one batch at a time. "
                                                    + "Use one plan per thread, or Model.Predict, which is safe from any number of threads.");
            default: throw new ObjectDisposedException(nameof(ExecutionPlan), $"{Model.Name}: the plan was disposed.");
        }
    }

    /// <summary>Ends a run; releases the plan if it was disposed while running.</summary>
    private void ExitRun()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Running) == DisposeRequested)
        {
            Volatile.Write(ref _state, Disposed);
            Release();
        }
    }

    /// <summary>
    /// Runs every layer once, timing each (synchronizing the backend after each step, and summing a step's time over the
    /// passes); see <see cref="PlanStep.LastMilliseconds"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The plan is running on another thread.</exception>
    /// <exception cref="ObjectDisposedException">The plan was disposed.</exception>
    public void RunProfiled() => RunClaimed(profiled: true);

    /// <summary>Runs the steps, timed when <paramref name="profiled"/>, with the plan claimed for this thread.</summary>
    private void RunClaimed(bool profiled)
    {
        EnterRun();
        try
        {
            if (profiled) RunStepsProfiled();
            else RunSteps();
        }
        finally
        {
            ExitRun();
        }
    }

    private void RunStepsProfiled()
    {
        if (_imageRunProfiled is not null)
        {
            _imageRunProfiled.Run();
            return;
        }
        foreach (var step in _steps) step.LastMilliseconds = 0;
        int passes = Batch / ImagesPerPass;
        for (int pass = 0; pass < passes; pass++)
        {
            if (passes > 1) BeginPass(pass);
            foreach (var step in _steps)
            {
                long start = Stopwatch.GetTimestamp();
                step.Prepared.Run();
                Backend.Synchronize();
                step.LastMilliseconds += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
            if (passes > 1) EndPass(pass);
        }
    }

    /// <summary>A copy of <paramref name="layerName"/>'s output from the last run, as a tensor the caller owns and disposes.</summary>
    /// <exception cref="KeyNotFoundException">No layer has that name.</exception>
    /// <exception cref="InvalidOperationException">The layer's output is not kept (see <see cref="GetActivation"/>).</exception>
    public Tensor ReadActivation(string layerName)
    {
        var buffer = GetActivation(layerName);
        var tensor = new Tensor(buffer.Shape);
        buffer.CopyTo(tensor.Span);
        return tensor;
    }

    /// <summary>Saves <paramref name="layerName"/>'s output from the last run as a NumPy <c>.npy</c> file (float32, its NHWC shape).</summary>
    /// <exception cref="KeyNotFoundException">No layer has that name.</exception>
    /// <exception cref="InvalidOperationException">The layer's output is not kept (see <see cref="GetActivation"/>).</exception>
    public void SaveActivation(string layerName, string path)
    {
        using var tensor = ReadActivation(layerName);
        NpyFile.Write(path, tensor);
    }

    /// <summary>The output buffer of the layer named <paramref name="layerName"/> (the input layer's name gives the input).</summary>
    /// <remarks>
    /// In a fused plan, a layer's output lives only until its last reader has run unless nothing later writes over its
    /// memory (the plan's output, and typically the last few layers); a plan made with <c>fuse: false</c> keeps them all.
    /// </remarks>
    /// <exception cref="KeyNotFoundException">No layer has that name.</exception>
    /// <exception cref="InvalidOperationException">
    /// The layer runs inside a fused step, whose intermediate outputs are not kept, or a later layer reuses its buffer.
    /// </exception>
    public IDeviceBuffer GetActivation(string layerName)
    {
        if (layerName == Model.Input.Name) return Input;
        if (_imagePlans is not null)
        {
            if (layerName == Model.Output.Name) return Output;
            if (!_imagePlans[0]._stepsByName.ContainsKey(layerName)) throw new KeyNotFoundException($"{Model.Name}: no layer named '{layerName}'.");
            throw new InvalidOperationException($"{Model.Name}: the plan runs its batch of {Batch} as {ImageThreads} threads of {Batch / ImageThreads} images each, "
                                                + $"so the output of layer '{layerName}' is not kept for the batch; create the plan with imagesPerPass: {Batch}, or with fuse: false.");
        }
        if (!_stepsByName.TryGetValue(layerName, out var step)) throw new KeyNotFoundException($"{Model.Name}: no layer named '{layerName}'.");
        if (_batchOutput is not null && step.Node == Model.Output && step.Name == layerName) return Output;
        if (_batchInput is not null)
            throw new InvalidOperationException($"{Model.Name}: the plan runs its batch of {Batch} in passes of {ImagesPerPass} images, so the output of "
                                                + $"layer '{layerName}' is kept for the last pass only; create the plan with imagesPerPass: {Batch}, or with fuse: false.");
        if (step.Name != layerName)
            throw new InvalidOperationException($"{Model.Name}: layer '{layerName}' runs fused into '{step.Name}', so its output is not kept; create the plan with fuse: false to read it.");
        if (_overwrittenBy.TryGetValue(step, out var later))
            throw new InvalidOperationException($"{Model.Name}: the output of layer '{layerName}' is not kept: its buffer is reused by layer '{later.Name}', "
                                                + "which runs later; create the plan with fuse: false to read every layer's output.");
        return step.Output;
    }

    /// <summary>
    /// Releases the prepared ops and activation buffers (not the model's weights), and the backend when the plan made it
    /// (<see cref="Model.To"/>). Safe to call more than once and from any thread; a plan disposed while it runs on another
    /// thread is released when that run returns.
    /// </summary>
    public void Dispose()
    {
        while (true)
        {
            switch (Interlocked.CompareExchange(ref _state, Disposed, Idle))
            {
                case Idle:
                    Release();
                    return;
                case Running:
                    if (Interlocked.CompareExchange(ref _state, DisposeRequested, Running) == Running) return;
                    continue; // the run ended in between: try again from Idle
                default: return;
            }
        }
    }

    private void Release()
    {
        // The steps of a plan whose images run on separate threads belong to the per-thread plans, disposed below.
        if (_imagePlans is null)
            foreach (var step in _steps) step.Prepared.Dispose();
        foreach (var buffer in _allocations) buffer.Dispose();
        foreach (var weight in _ownedWeights) weight.Dispose();
        _imageRun?.Dispose();
        _imageRunProfiled?.Dispose();
        if (_imagePlans is not null)
            foreach (var plan in _imagePlans) plan.Dispose();
        _batchInput?.Dispose();
        _batchOutput?.Dispose();
        if (_ownsBackend) Backend.Dispose();
    }
}
