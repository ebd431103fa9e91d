using System.Diagnostics.CodeAnalysis;
using System.Numerics.Tensors;

namespace NativeCnn.Tensors;

/// <summary>
/// A float32 tensor in host memory: a <see cref="TensorShape"/> plus an owned, 64-byte-aligned
/// <see cref="AlignedBuffer"/>, or a <see cref="View"/> of another tensor's memory. It is data and shape only;
/// operations live in backends and kernels.
/// </summary>
public sealed class Tensor : IDisposable
{
    private readonly AlignedBuffer _buffer;
    private readonly bool _ownsBuffer;

    /// <summary>Allocates a zero-filled tensor.</summary>
    /// <exception cref="ArgumentException">The shape is empty (rank 0) or too large.</exception>
    public Tensor(TensorShape shape)
    {
        if (shape.Rank == 0) throw new ArgumentException("A tensor needs a shape of rank 1 or more.", nameof(shape));
        if (shape.ElementCount > int.MaxValue)
            throw new ArgumentException($"Shape {shape} has {shape.ElementCount} elements; at most {int.MaxValue} fit in one tensor.", nameof(shape));
        Shape = shape;
        Length = (int)shape.ElementCount;
        _buffer = new AlignedBuffer(shape.ElementCount);
        _ownsBuffer = true;
    }

    private Tensor(TensorShape shape, AlignedBuffer sharedBuffer)
    {
        Shape = shape;
        Length = (int)shape.ElementCount;
        _buffer = sharedBuffer;
    }

    /// <summary>Creates a tensor from dimensions, e.g. <c>new Tensor(1, 224, 224, 3)</c>.</summary>
    public Tensor(params ReadOnlySpan<int> dimensions) : this(new TensorShape(dimensions)) { }

    /// <summary>Copies <paramref name="data"/> (row-major) into a new tensor of <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The data length does not match the shape.</exception>
    public static Tensor FromArray(ReadOnlySpan<float> data, TensorShape shape)
    {
        var tensor = new Tensor(shape);
        tensor.CopyFrom(data);
        return tensor;
    }

    /// <summary>The shape.</summary>
    public TensorShape Shape { get; }

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>The data, row-major. Valid while the tensor (for a view: the tensor it views) is not disposed.</summary>
    public unsafe Span<float> Span => new(_buffer.Pointer, Length);

    /// <summary>Pointer to the first element, 64-byte aligned; for kernels that need raw addressing.</summary>
    public unsafe float* Pointer => _buffer.Pointer;

    /// <summary>The element at NHWC position <c>(n, y, x, c)</c>; for inspection, not for hot loops.</summary>
    public ref float At(int n, int y, int x, int c)
    {
        var s = Shape;
        if ((uint)n >= (uint)s.Batch || (uint)y >= (uint)s.Height || (uint)x >= (uint)s.Width || (uint)c >= (uint)s.Channels)
            throw new IndexOutOfRangeException($"Index ({n}, {y}, {x}, {c}) is outside shape {s}.");
        return ref Span[((n * s.Height + y) * s.Width + x) * s.Channels + c];
    }

    /// <summary>
    /// The first <c>shape.ElementCount</c> values as a tensor of <paramref name="shape"/>, sharing this tensor's memory
    /// (64-byte aligned as well). Disposing the view frees nothing; it is valid while this tensor is.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="shape"/> is empty (rank 0) or holds more values than this tensor.</exception>
    public Tensor View(TensorShape shape)
    {
        if (shape.Rank == 0) throw new ArgumentException("A tensor needs a shape of rank 1 or more.", nameof(shape));
        if (shape.ElementCount > _buffer.Length)
            throw new ArgumentException($"A view {shape} needs {shape.ElementCount} values; the buffer of {Shape} holds {_buffer.Length}.", nameof(shape));
        return new Tensor(shape, _buffer);
    }

    /// <summary>Copies the data into a new array.</summary>
    public float[] ToArray() => Span.ToArray();

    /// <summary>Copies <paramref name="source"/> in (row-major, exactly <see cref="Length"/> values).</summary>
    /// <exception cref="ArgumentException">The length does not match.</exception>
    public void CopyFrom(ReadOnlySpan<float> source)
    {
        if (source.Length != Length)
            throw new ArgumentException($"Expected {Length} values for shape {Shape}, got {source.Length}.", nameof(source));
        source.CopyTo(Span);
    }

    /// <summary>Copies the data out to <paramref name="destination"/> (exactly <see cref="Length"/> values).</summary>
    /// <exception cref="ArgumentException">The length does not match.</exception>
    public void CopyTo(Span<float> destination)
    {
        if (destination.Length != Length)
            throw new ArgumentException($"Expected room for {Length} values of shape {Shape}, got {destination.Length}.", nameof(destination));
        Span.CopyTo(destination);
    }

    /// <summary>Copies into a new <see cref="System.Numerics.Tensors.Tensor{T}"/> with the same lengths.</summary>
    [Experimental("SYSLIB5001")]
    public Tensor<float> ToNumericsTensor()
    {
        Span<nint> lengths = stackalloc nint[Shape.Rank];
        for (int i = 0; i < lengths.Length; i++) lengths[i] = Shape[i];
        return System.Numerics.Tensors.Tensor.Create(ToArray(), lengths);
    }

    /// <summary>A <see cref="TensorSpan{T}"/> over this tensor's memory, without copying.</summary>
    [Experimental("SYSLIB5001")]
    public unsafe TensorSpan<float> AsTensorSpan()
    {
        Span<nint> lengths = stackalloc nint[Shape.Rank];
        for (int i = 0; i < lengths.Length; i++) lengths[i] = Shape[i];
        return new TensorSpan<float>(Pointer, Length, lengths, []);
    }

    /// <summary>Copies a dense <see cref="ReadOnlyTensorSpan{T}"/> of rank 1 to 4 into a new tensor.</summary>
    /// <exception cref="ArgumentException">The rank is outside 1..4.</exception>
    [Experimental("SYSLIB5001")]
    public static Tensor FromNumerics(in ReadOnlyTensorSpan<float> source)
    {
        var lengths = source.Lengths;
        if (lengths.Length is 0 or > TensorShape.MaxRank)
            throw new ArgumentException($"Only ranks 1 to {TensorShape.MaxRank} are supported, got rank {lengths.Length}.", nameof(source));
        Span<int> dims = stackalloc int[lengths.Length];
        for (int i = 0; i < dims.Length; i++) dims[i] = checked((int)lengths[i]);
        var tensor = new Tensor(new TensorShape(dims));
        source.FlattenTo(tensor.Span);
        return tensor;
    }

    /// <summary>Releases the native memory; a view releases nothing (the tensor it views owns the memory).</summary>
    public void Dispose()
    {
        if (_ownsBuffer) _buffer.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => $"Tensor{Shape}";
}
