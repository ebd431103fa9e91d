using System.Runtime.InteropServices;

namespace NativeCnn.Backends.Gpu;

/// <summary>
/// What the GPU ops need from a driver API: device buffers, launches of the shared kernels with their arguments bound
/// once, and a wait. <see cref="OpenClRuntime"/> and <see cref="CudaRuntime"/> implement it; <see cref="GpuOps"/> is
/// written once against it.
/// </summary>
internal abstract class GpuRuntime : IDisposable
{
    /// <summary>A readable device name, e.g. <c>opencl:0:0 (pthread-skylake-avx512)</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Allocates a zero-filled device buffer.</summary>
    public abstract GpuBuffer Allocate(TensorShape shape);

    /// <summary>Binds <paramref name="arguments"/> to a fresh instance of <paramref name="kernel"/>.</summary>
    public abstract GpuLaunch CreateLaunch(string kernel, ReadOnlySpan<KernelArgument> arguments, LaunchGeometry geometry);

    /// <summary>Waits for all queued work.</summary>
    public abstract void Synchronize();

    /// <summary>Allocates a buffer holding <paramref name="values"/>.</summary>
    public GpuBuffer Upload(ReadOnlySpan<float> values)
    {
        var buffer = Allocate(new TensorShape(Math.Max(1, values.Length)));
        if (!values.IsEmpty) buffer.CopyFrom(values);
        return buffer;
    }

    /// <inheritdoc/>
    public abstract void Dispose();
}

/// <summary>
/// A device buffer of one tensor; <see cref="CopyTo"/> waits for the work queued before it. The checks live here, the
/// driver calls in each runtime's <see cref="Write"/>, <see cref="Read"/> and <see cref="CreateView"/>.
/// </summary>
internal abstract class GpuBuffer(TensorShape shape) : IDeviceBuffer
{
    public TensorShape Shape { get; } = shape;

    /// <summary>The element count, never below 1 because drivers reject empty allocations.</summary>
    public long AllocatedLength => Math.Max(1, Shape.ElementCount);

    public void CopyFrom(ReadOnlySpan<float> source)
    {
        CheckLength(source.Length, "The source");
        if (!source.IsEmpty) Write(source);
    }

    public void CopyTo(Span<float> destination)
    {
        CheckLength(destination.Length, "The destination");
        if (!destination.IsEmpty) Read(destination);
    }

    /// <summary>
    /// A buffer of <paramref name="shape"/> on the same device memory (offset 0); it frees nothing when disposed. Views
    /// share the device pointer, so kernels see them as the buffer itself; they may not reach past its end.
    /// </summary>
    public GpuBuffer View(TensorShape shape)
    {
        if (shape.Rank == 0) throw new ArgumentException("A view needs a shape of rank 1 or more.", nameof(shape));
        if (shape.ElementCount > AllocatedLength)
            throw new ArgumentException($"A view {shape} needs {shape.ElementCount} values; the buffer {Shape} holds {AllocatedLength}.", nameof(shape));
        return CreateView(shape);
    }

    IDeviceBuffer IDeviceBuffer.View(TensorShape shape) => View(shape);

    public abstract void Dispose();

    /// <summary>Copies <paramref name="source"/> in; it is not empty and has exactly the buffer's length.</summary>
    protected abstract void Write(ReadOnlySpan<float> source);

    /// <summary>Copies the buffer out, waiting for queued work; <paramref name="destination"/> is not empty and fits exactly.</summary>
    protected abstract void Read(Span<float> destination);

    /// <summary>A view of <paramref name="shape"/>, already checked to fit.</summary>
    protected abstract GpuBuffer CreateView(TensorShape shape);

    private void CheckLength(int length, string what)
    {
        if (length != Shape.ElementCount)
            throw new ArgumentException($"{what} has {length} values; the buffer {Shape} holds {Shape.ElementCount}.");
    }
}

/// <summary>
/// A buffer over a driver's memory handle: the buffer that allocated the memory frees it, views share the handle and
/// free nothing.
/// </summary>
internal abstract class GpuBuffer<TMemory> : GpuBuffer where TMemory : SafeHandle
{
    private readonly bool _ownsMemory;

    /// <summary>The owner; its constructor sets <see cref="Memory"/>.</summary>
    protected GpuBuffer(TensorShape shape) : base(shape) => _ownsMemory = true;

    /// <summary>A view of <paramref name="source"/>'s memory.</summary>
    protected GpuBuffer(GpuBuffer<TMemory> source, TensorShape shape) : base(shape) => Memory = source.Memory;

    public TMemory Memory { get; protected init; } = null!;

    public sealed override void Dispose()
    {
        if (_ownsMemory) Memory.Dispose();
    }
}

/// <summary>One kernel launch with its arguments set; <see cref="Enqueue"/> only queues it.</summary>
internal abstract class GpuLaunch : IDisposable
{
    public abstract void Enqueue();

    public abstract void Dispose();
}

/// <summary>A kernel argument: a buffer, an <c>int</c> or a <c>float</c>.</summary>
internal readonly record struct KernelArgument(GpuBuffer? Buffer, int Int, float Float, bool IsFloat)
{
    public static implicit operator KernelArgument(GpuBuffer buffer) => new(buffer, 0, 0f, false);
    public static implicit operator KernelArgument(int value) => new(null, value, 0f, false);
    public static implicit operator KernelArgument(float value) => new(null, 0, value, true);
    public static implicit operator KernelArgument(bool value) => new(null, value ? 1 : 0, 0f, false);
}

/// <summary>
/// Launch geometry in OpenCL's convention (CUDA's grid is <c>Global / Local</c>): global sizes are rounded up to a
/// multiple of the local size and every kernel bounds-checks. Only two local sizes are used, because PoCL compiles
/// each kernel once per local size.
/// </summary>
internal readonly record struct LaunchGeometry(int Global0, int Global1, int Local0, int Local1)
{
    public const int LinearLocalSize = 64;
    public const int Tile = 16;

    /// <summary>One work item per element, in groups of <see cref="LinearLocalSize"/>.</summary>
    public static LaunchGeometry Linear(long count) =>
        new(RoundUp(checked((int)Math.Max(1, count)), LinearLocalSize), 1, LinearLocalSize, 1);

    /// <summary>
    /// <see cref="Tile"/> × <see cref="Tile"/> groups, each covering a <paramref name="block"/> × <paramref name="block"/>
    /// tile of a <paramref name="rows"/> × <paramref name="columns"/> output (several outputs per work item).
    /// </summary>
    public static LaunchGeometry Blocked(long rows, int columns, int block) =>
        new(checked((int)((Math.Max(1, rows) + block - 1) / block * Tile)), (Math.Max(1, columns) + block - 1) / block * Tile, Tile, Tile);

    private static int RoundUp(int value, int multiple) => checked((value + multiple - 1) / multiple * multiple);
}
