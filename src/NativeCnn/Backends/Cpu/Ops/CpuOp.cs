using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// Base of the CPU's prepared ops: checks the binding once (buffers are host tensors of the expected shapes), then
/// runs <see cref="IRowWork.Execute"/> on the worker pool.
/// </summary>
internal abstract class CpuOp : IPreparedOp, IRowWork
{
    private readonly WorkerPool _pool;

    protected CpuOp(OpBinding binding, WorkerPool pool, int inputCount, int weightCount)
    {
        _pool = pool;
        LayerName = binding.LayerName;
        if (binding.Inputs.Count != inputCount && inputCount >= 0)
            throw Fail($"expected {inputCount} input(s), got {binding.Inputs.Count}");
        if (binding.Weights.Count < weightCount)
            throw Fail($"expected {weightCount} weight tensor(s), got {binding.Weights.Count}");
        Inputs = new Tensor[binding.Inputs.Count];
        for (int i = 0; i < Inputs.Length; i++) Inputs[i] = AsTensor(binding.Inputs[i], $"input {i}");
        Output = AsTensor(binding.Output, "output");
    }

    protected string LayerName { get; }
    protected Tensor[] Inputs { get; }
    protected Tensor Input => Inputs[0];
    protected Tensor Output { get; }

    /// <summary>How many rows <see cref="Run"/> splits the work into.</summary>
    protected abstract int RowCount { get; }

    /// <summary>The fewest rows worth handing to another thread.</summary>
    protected virtual int MinRowsPerChunk => 1;

    /// <summary>The pool the op runs on, for ops that run in several phases.</summary>
    protected WorkerPool Pool => _pool;

    public virtual void Run() => _pool.Run(this, RowCount, MinRowsPerChunk);

    public abstract void Execute(RowRange rows);

    public virtual void Dispose() { }

    protected BackendException Fail(string problem) => new($"{LayerName}: {problem}.");

    protected void ExpectShape(TensorShape actual, TensorShape expected, string what)
    {
        if (actual != expected) throw Fail($"expected {what} {expected}, got {actual}");
    }

    protected void ExpectLength(Tensor weight, long expected, string what)
    {
        if (weight.Length != expected) throw Fail($"expected {what} with {expected} values, got shape {weight.Shape}");
    }

    /// <summary>The shape of input 0, refused unless it is NHWC (rank 4).</summary>
    protected TensorShape ExpectNhwcInput()
    {
        var shape = Input.Shape;
        return shape.Rank == 4 ? shape : throw Fail($"expected an NHWC input, got {shape}");
    }

    /// <summary>The bias (weight 1), checked to hold <paramref name="length"/> values; null when the op has none.</summary>
    protected Tensor? OptionalBias(OpBinding binding, bool useBias, long length)
    {
        if (!useBias) return null;
        var bias = binding.Weights[1];
        ExpectLength(bias, length, "bias");
        return bias;
    }

    /// <summary>
    /// <see cref="Padding2D.OutputSize"/> for one axis of a window op, refusing pads, sizes, a padded extent or window
    /// coordinates out of range (<see cref="WindowChecks.Axis"/>, which the kernels check again on every call) with the
    /// layer's name, when the op is prepared, before anything is allocated or read.
    /// </summary>
    protected int WindowOutputSize(string axis, int input, int padBefore, int padAfter, int kernel, int stride, int dilation) =>
        WindowChecks.OutputSize(LayerName, axis, input, padBefore, padAfter, kernel, stride, dilation);

    /// <summary><c>channels · multiplier</c>, refused when it does not fit an <see cref="int"/>.</summary>
    protected int ChannelProduct(int channels, int multiplier)
    {
        long product = (long)channels * multiplier;
        return product <= int.MaxValue ? (int)product : throw Fail($"{channels} channels × {multiplier} = {product} do not fit a 32-bit count");
    }

    /// <summary>The one place a CPU op reaches through a buffer to its host tensor, checked once, when it is prepared.</summary>
    private Tensor AsTensor(IDeviceBuffer buffer, string what) =>
        (buffer as HostBuffer)?.Tensor ?? throw Fail($"{what} is a {buffer.GetType().Name}, not a CPU tensor");
}
