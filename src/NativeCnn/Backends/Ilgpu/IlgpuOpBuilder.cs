using ILGPU;
using ILGPU.Runtime;
using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Ilgpu;

/// <summary>
/// Collects the launches and the device buffers (weights, scratch) of one op while it is prepared. A launch is a closure
/// over a loaded kernel, its launch geometry, its buffers and its parameter struct, all settled here, so running the op
/// only queues them.
/// </summary>
internal sealed class IlgpuOpBuilder(IlgpuDeviceContext device, OpBinding binding) : IDisposable
{
    private readonly List<Action> _launches = [];
    private readonly List<IlgpuBuffer> _owned = [];

    public IlgpuDeviceContext Device => device;

    public IlgpuBuffer Output { get; } = AsIlgpu(device, binding, binding.Output, "output");

    public int InputCount => binding.Inputs.Count;

    /// <summary>The output's element count, as the kernels take it.</summary>
    public int Count => Dimension("output size", Output.Shape.ElementCount);

    public IlgpuBuffer Input(int index) => AsIlgpu(device, binding, binding.Inputs[index], $"input {index}");

    public Tensor Weight(int index) => binding.Weights[index];

    public void ExpectCounts(int inputs, int weights)
    {
        if (inputs >= 0 && binding.Inputs.Count != inputs) throw Fail($"expected {inputs} input(s), got {binding.Inputs.Count}");
        if (binding.Weights.Count < weights) throw Fail($"expected {weights} weight tensor(s), got {binding.Weights.Count}");
    }

    public void ExpectShape(TensorShape actual, TensorShape expected, string what)
    {
        if (actual != expected) throw Fail($"expected {what} {expected}, got {actual}");
    }

    public void ExpectLength(Tensor weight, long expected, string what)
    {
        if (weight.Length != expected) throw Fail($"expected {what} with {expected} values, got shape {weight.Shape}");
    }

    /// <summary>The output size of one window axis, checked as the CPU kernels check it (<see cref="WindowChecks"/>).</summary>
    public int WindowOutputSize(string axis, int input, int padBefore, int padAfter, int kernel, int stride, int dilation) =>
        WindowChecks.OutputSize(binding.LayerName, axis, input, padBefore, padAfter, kernel, stride, dilation);

    /// <summary>A product of sizes as the kernels' 32-bit count, refused with the layer's name when it does not fit.</summary>
    public int Dimension(string what, long value) =>
        value is >= 0 and <= int.MaxValue ? (int)value : throw Fail($"{what} {value} does not fit a 32-bit size");

    public BackendException Fail(string problem) => new($"{binding.LayerName}: {problem}.");

    /// <summary>Uploads weights once; the buffer lives as long as the prepared op.</summary>
    public ArrayView<float> Upload(ReadOnlySpan<float> values)
    {
        var buffer = Own(new IlgpuBuffer(device, new TensorShape(Math.Max(1, values.Length))));
        if (!values.IsEmpty) buffer.CopyFrom(values);
        return buffer.Memory;
    }

    /// <summary>The bias weight, or zeros when the op has none, so the kernels need no null views.</summary>
    public ArrayView<float> Bias(bool useBias, int length, int weightIndex = 1)
    {
        if (!useBias) return Own(new IlgpuBuffer(device, new TensorShape(Math.Max(1, length)))).Memory;
        ExpectLength(Weight(weightIndex), length, "bias");
        return Upload(Weight(weightIndex).Span);
    }

    public IlgpuBuffer Scratch(TensorShape shape) => Own(new IlgpuBuffer(device, shape));

    /// <summary>One thread per value, in groups of <see cref="IlgpuDeviceContext.LinearGroupSize"/>.</summary>
    public KernelConfig Linear(long count)
    {
        int group = device.LinearGroupSize;
        return new KernelConfig(Dimension("launch size", (Math.Max(1, count) + group - 1) / group), group);
    }

    /// <summary>One group per row for the shared-memory reductions.</summary>
    public KernelConfig Rows(int rows) => new(Math.Max(1, rows), device.ReductionGroupSize);

    public void Launch(Action launch) => _launches.Add(launch);

    public IPreparedOp Build() => new IlgpuPreparedOp(device, _launches.ToArray(), _owned.ToArray());

    public void Dispose()
    {
        foreach (var buffer in _owned) buffer.Dispose();
    }

    private IlgpuBuffer Own(IlgpuBuffer buffer)
    {
        _owned.Add(buffer);
        return buffer;
    }

    private static IlgpuBuffer AsIlgpu(IlgpuDeviceContext device, OpBinding binding, IDeviceBuffer buffer, string what) =>
        buffer is IlgpuBuffer ilgpu && ilgpu.Device == device ? ilgpu
            : throw new BackendException($"{binding.LayerName}: {what} is a {buffer.GetType().Name}, not a buffer of {device.Name}.");
}

/// <summary>
/// A prepared op: its launches in order, and the weight and scratch buffers it owns. <see cref="Run"/> queues the
/// launches under the device's lock (so threads sharing a backend queue whole ops in turn) and returns without waiting.
/// </summary>
internal sealed class IlgpuPreparedOp(IlgpuDeviceContext device, Action[] launches, IlgpuBuffer[] owned) : IPreparedOp
{
    private bool _disposed;

    public void Run()
    {
        using (device.EnterBound())
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (var launch in launches) launch();
        }
    }

    public void Dispose()
    {
        lock (device.SyncRoot)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var buffer in owned) buffer.Dispose();
        }
    }
}
