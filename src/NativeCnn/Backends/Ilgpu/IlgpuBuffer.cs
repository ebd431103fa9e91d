using ILGPU;
using ILGPU.Runtime;

namespace NativeCnn.Backends.Ilgpu;

/// <summary>
/// A tensor in an ILGPU accelerator's memory. The buffer that allocated the memory owns it; views share it and free
/// nothing. <see cref="CopyFrom"/> and <see cref="CopyTo"/> are the only host transfers, and <see cref="CopyTo"/> waits
/// for the work queued before it.
/// </summary>
internal sealed class IlgpuBuffer : IDeviceBuffer
{
    private readonly IlgpuDeviceContext _device;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _memory;

    /// <summary>Allocates a zero-filled buffer (at least one value: drivers reject empty allocations).</summary>
    public IlgpuBuffer(IlgpuDeviceContext device, TensorShape shape)
    {
        _device = device;
        Shape = shape;
        _memory = device.Allocate(Math.Max(1, shape.ElementCount));
        Memory = _memory.View.SubView(0, Math.Max(1, shape.ElementCount));
    }

    private IlgpuBuffer(IlgpuBuffer source, TensorShape shape)
    {
        _device = source._device;
        Shape = shape;
        Memory = source.Memory.SubView(0, Math.Max(1, shape.ElementCount));
    }

    /// <inheritdoc/>
    public TensorShape Shape { get; }

    /// <summary>The device memory the kernels take (at least one value long).</summary>
    public ArrayView1D<float, Stride1D.Dense> Memory { get; }

    /// <summary>The accelerator the memory is on.</summary>
    public IlgpuDeviceContext Device => _device;

    /// <inheritdoc/>
    public void CopyFrom(ReadOnlySpan<float> source)
    {
        CheckLength(source.Length, "The source");
        if (source.IsEmpty) return;
        using (_device.EnterBound()) Memory.SubView(0, source.Length).CopyFromCPU(_device.Stream, source);
    }

    /// <inheritdoc/>
    public void CopyTo(Span<float> destination)
    {
        CheckLength(destination.Length, "The destination");
        if (destination.IsEmpty) return;
        using (_device.EnterBound())
        {
            Memory.SubView(0, destination.Length).CopyToCPU(_device.Stream, destination);
            _device.Stream.Synchronize();
        }
    }

    /// <inheritdoc/>
    public IDeviceBuffer View(TensorShape shape) => CreateView(shape);

    /// <summary>A buffer of <paramref name="shape"/> on the same memory (offset 0).</summary>
    /// <exception cref="ArgumentException">The shape holds more values than this buffer.</exception>
    public IlgpuBuffer CreateView(TensorShape shape)
    {
        if (shape.Rank == 0) throw new ArgumentException("A view needs a shape of rank 1 or more.", nameof(shape));
        if (shape.ElementCount > Memory.Length)
            throw new ArgumentException($"A view {shape} needs {shape.ElementCount} values; the buffer {Shape} holds {Memory.Length}.", nameof(shape));
        return new IlgpuBuffer(this, shape);
    }

    /// <summary>Frees the memory if this buffer allocated it (a view frees nothing).</summary>
    public void Dispose()
    {
        if (_memory is null) return;
        lock (_device.SyncRoot) _memory.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"IlgpuBuffer{Shape}";

    private void CheckLength(int length, string what)
    {
        if (length != Shape.ElementCount)
            throw new ArgumentException($"{what} has {length} values; the buffer {Shape} holds {Shape.ElementCount}.");
    }
}
