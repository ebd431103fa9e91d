using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Ops;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// Base of the CPU's training ops: checks the binding once (host tensors of the expected shapes) and gives the
/// subclasses its tensors, the worker pool and the helpers every backward pass uses.
/// </summary>
internal abstract class CpuTrainingOp : ITrainingOp
{
    protected CpuTrainingOp(TrainingBinding binding, WorkerPool pool, int inputCount)
    {
        LayerName = binding.LayerName;
        Pool = pool;
        if (inputCount >= 0 && binding.Inputs.Count != inputCount)
            throw Fail($"expected {inputCount} input(s), got {binding.Inputs.Count}");
        if (binding.InputGradients.Count != binding.Inputs.Count)
            throw Fail($"expected one input gradient slot per input ({binding.Inputs.Count}), got {binding.InputGradients.Count}");
        if (binding.WeightGradients.Count != binding.Weights.Count)
            throw Fail($"expected one weight gradient slot per weight ({binding.Weights.Count}), got {binding.WeightGradients.Count}");
        Inputs = new Tensor[binding.Inputs.Count];
        InputGradients = new Tensor?[binding.Inputs.Count];
        for (int i = 0; i < Inputs.Length; i++)
        {
            Inputs[i] = AsTensor(binding.Inputs[i], $"input {i}");
            if (binding.InputGradients[i] is { } gradient)
            {
                InputGradients[i] = AsTensor(gradient, $"input gradient {i}");
                ExpectShape(InputGradients[i]!.Shape, Inputs[i].Shape, $"input gradient {i}");
            }
        }
        Output = AsTensor(binding.Output, "output");
        OutputGradient = AsTensor(binding.OutputGradient, "output gradient");
        ExpectShape(OutputGradient.Shape, Output.Shape, "output gradient");
        Weights = binding.Weights;
        WeightGradients = binding.WeightGradients;
        for (int w = 0; w < Weights.Count; w++)
            if (WeightGradients[w] is { } g) ExpectShape(g.Shape, Weights[w].Shape, $"gradient of weight {w}");
        Binding = binding;
    }

    protected string LayerName { get; }
    protected WorkerPool Pool { get; }
    protected TrainingBinding Binding { get; }
    protected Tensor[] Inputs { get; }
    protected Tensor Input => Inputs[0];
    protected Tensor?[] InputGradients { get; }
    protected Tensor? InputGradient => InputGradients[0];
    protected Tensor Output { get; }
    protected Tensor OutputGradient { get; }
    protected IReadOnlyList<Tensor> Weights { get; }
    protected IReadOnlyList<Tensor?> WeightGradients { get; }

    public abstract void Forward(bool training);

    public abstract void Backward();

    public virtual void Dispose() { }

    protected BackendException Fail(string problem) => new($"{LayerName}: {problem}.");

    protected void ExpectShape(TensorShape actual, TensorShape expected, string what)
    {
        if (actual != expected) throw Fail($"expected {what} {expected}, got {actual}");
    }

    /// <summary>Splits <paramref name="rowCount"/> rows into one slice per pool thread: slice <paramref name="slice"/>'s rows.</summary>
    internal static RowRange Slice(int rowCount, int sliceCount, int slice)
    {
        long start = (long)rowCount * slice / sliceCount, end = (long)rowCount * (slice + 1) / sliceCount;
        return new RowRange((int)start, (int)end);
    }

    /// <summary>Adds each of <paramref name="partials"/> (the first <paramref name="count"/>) into <paramref name="sum"/>.</summary>
    internal static void AddPartials(Span<float> sum, float[][] partials, int count)
    {
        for (int t = 0; t < count; t++)
            System.Numerics.Tensors.TensorPrimitives.Add(sum, partials[t].AsSpan(0, sum.Length), sum);
    }

    private Tensor AsTensor(IDeviceBuffer buffer, string what) =>
        (buffer as HostBuffer)?.Tensor ?? throw Fail($"{what} is a {buffer.GetType().Name}, not a CPU tensor");
}

/// <summary>Runs a delegate-free row work item: the pool calls <see cref="Execute"/> with disjoint ranges.</summary>
internal sealed class RowWork(Action<RowRange> body) : IRowWork
{
    public void Execute(RowRange rows) => body(rows);
}
