namespace NativeCnn.Backends;

/// <summary>Memory for one tensor, owned by a backend (host memory for the CPU, device memory for a GPU).</summary>
public interface IDeviceBuffer : IDisposable
{
    /// <summary>The shape of the tensor the buffer holds.</summary>
    TensorShape Shape { get; }

    /// <summary>Copies host data in (row-major, exactly <c>Shape.ElementCount</c> values).</summary>
    void CopyFrom(ReadOnlySpan<float> source);

    /// <summary>Copies the data out to the host; for a device buffer this is the synchronization point.</summary>
    void CopyTo(Span<float> destination);

    /// <summary>
    /// The first <c>shape.ElementCount</c> values of this buffer seen as a tensor of <paramref name="shape"/>: the same
    /// memory, nothing copied or allocated on the device. Disposing the view frees nothing; it is valid while this
    /// buffer is. Plans use views so that layers whose outputs are never alive at the same time share one allocation.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="shape"/> holds more values than this buffer.</exception>
    IDeviceBuffer View(TensorShape shape);
}
