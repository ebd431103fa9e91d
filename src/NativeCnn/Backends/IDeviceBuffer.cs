using NativeCnn.Tensors;

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
}
