namespace NativeCnn.Backends;

/// <summary>
/// A buffer in host memory: a <see cref="Tensors.Tensor"/> seen as an <see cref="IDeviceBuffer"/>. The CPU backend's
/// buffers are these, and so are the batch-sized input and output of a plan that runs its batch in shares; wrap a tensor
/// in one to bind it to a CPU op.
/// </summary>
public sealed class HostBuffer : IDeviceBuffer
{
    private readonly bool _ownsTensor;

    /// <summary>Allocates a zero-filled buffer of <paramref name="shape"/>, which it owns.</summary>
    /// <exception cref="ArgumentException">The shape is empty (rank 0) or too large for one tensor.</exception>
    public HostBuffer(TensorShape shape) : this(new Tensor(shape), ownsTensor: true) { }

    /// <summary>Wraps <paramref name="tensor"/>; disposing the buffer disposes the tensor only if <paramref name="ownsTensor"/>.</summary>
    public HostBuffer(Tensor tensor, bool ownsTensor = false)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Tensor = tensor;
        _ownsTensor = ownsTensor;
    }

    /// <summary>The tensor holding the data; valid while this buffer (for a view: the buffer it views) is.</summary>
    public Tensor Tensor { get; }

    /// <inheritdoc/>
    public TensorShape Shape => Tensor.Shape;

    /// <inheritdoc/>
    public void CopyFrom(ReadOnlySpan<float> source) => Tensor.CopyFrom(source);

    /// <inheritdoc/>
    public void CopyTo(Span<float> destination) => Tensor.CopyTo(destination);

    /// <inheritdoc/>
    public IDeviceBuffer View(TensorShape shape) => new HostBuffer(Tensor.View(shape));

    /// <summary>Releases the tensor if this buffer owns it (a view owns nothing).</summary>
    public void Dispose()
    {
        if (_ownsTensor) Tensor.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"HostBuffer{Shape}";
}
