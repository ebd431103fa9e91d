using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Gpu;

/// <summary>Collects the launches and the device buffers (weights, scratch) of one op while it is prepared.</summary>
internal sealed class GpuOpBuilder(GpuRuntime runtime, OpBinding binding) : IDisposable
{
    private readonly List<GpuLaunch> _launches = [];
    private readonly List<GpuBuffer> _owned = [];

    public GpuBuffer Output { get; } = AsGpu(runtime, binding, binding.Output, "output");

    public int InputCount => binding.Inputs.Count;

    /// <summary>The output's element count, as the kernels take it.</summary>
    public int Count => checked((int)Output.Shape.ElementCount);

    public GpuBuffer Input(int index) => AsGpu(runtime, binding, binding.Inputs[index], $"input {index}");

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

    /// <summary>
    /// <see cref="Padding2D.OutputSize"/> for one axis of a window op, refused with the layer's name when a pad, size or
    /// the padded extent is out of range, or when the kernels' 32-bit coordinates <c>y·stride − pad + ky·dilation</c>
    /// could wrap (the same bound as the CPU kernels', <see cref="WindowChecks.Axis"/>).
    /// </summary>
    public int WindowOutputSize(string axis, int input, int padBefore, int padAfter, int kernel, int stride, int dilation) =>
        WindowChecks.OutputSize(binding.LayerName, axis, input, padBefore, padAfter, kernel, stride, dilation);

    /// <summary>A product of sizes as the kernels' 32-bit count, refused with the layer's name when it does not fit.</summary>
    public int Dimension(string what, long value) =>
        value is >= 0 and <= int.MaxValue ? (int)value : throw Fail($"{what} {value} does not fit a 32-bit size");

    public BackendException Fail(string problem) => new($"{binding.LayerName}: {problem}.");

    /// <summary>Uploads weights once; the buffer lives as long as the prepared op.</summary>
    public GpuBuffer Upload(ReadOnlySpan<float> values) => Own(runtime.Upload(values));

    /// <summary>The bias weight, or zeros when the op has none, so the kernels need no null pointers.</summary>
    public GpuBuffer Bias(bool useBias, int length)
    {
        if (!useBias) return Own(runtime.Allocate(new TensorShape(Math.Max(1, length))));
        ExpectLength(Weight(1), length, "bias");
        return Upload(Weight(1).Span);
    }

    public GpuBuffer Scratch(TensorShape shape) => Own(runtime.Allocate(shape));

    public void Launch(string kernel, LaunchGeometry geometry, ReadOnlySpan<KernelArgument> arguments) =>
        _launches.Add(runtime.CreateLaunch(kernel, arguments, geometry));

    public IPreparedOp Build() => new GpuPreparedOp(_launches.ToArray(), _owned.ToArray());

    public void Dispose()
    {
        foreach (var launch in _launches) launch.Dispose();
        foreach (var buffer in _owned) buffer.Dispose();
    }

    private GpuBuffer Own(GpuBuffer buffer)
    {
        _owned.Add(buffer);
        return buffer;
    }

    private static GpuBuffer AsGpu(GpuRuntime runtime, OpBinding binding, IDeviceBuffer buffer, string what) =>
        buffer as GpuBuffer ?? throw new BackendException($"{binding.LayerName}: {what} is a {buffer.GetType().Name}, not a buffer of {runtime.Name}.");
}

/// <summary>A prepared GPU op: its launches in order, and the weight and scratch buffers it owns.</summary>
internal sealed class GpuPreparedOp(GpuLaunch[] launches, GpuBuffer[] owned) : IPreparedOp
{
    public void Run()
    {
        foreach (var launch in launches) launch.Enqueue();
    }

    public void Dispose()
    {
        foreach (var launch in launches) launch.Dispose();
        foreach (var buffer in owned) buffer.Dispose();
    }
}
