using NativeCnn.Tensors;

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

/// <summary>A device buffer of one tensor; <see cref="CopyTo"/> waits for the work queued before it.</summary>
internal abstract class GpuBuffer(TensorShape shape) : IDeviceBuffer
{
    public TensorShape Shape { get; } = shape;

    /// <summary>The element count, never below 1 because drivers reject empty allocations.</summary>
    public long AllocatedLength => Math.Max(1, Shape.ElementCount);

    public abstract void CopyFrom(ReadOnlySpan<float> source);

    public abstract void CopyTo(Span<float> destination);

    /// <summary>A buffer of <paramref name="shape"/> on the same device memory (offset 0); it frees nothing when disposed.</summary>
    public abstract GpuBuffer View(TensorShape shape);

    IDeviceBuffer IDeviceBuffer.View(TensorShape shape) => View(shape);

    public abstract void Dispose();

    /// <summary>Views share the device pointer, so kernels see them as the buffer itself; they may not reach past its end.</summary>
    protected void CheckView(TensorShape shape)
    {
        if (shape.Rank == 0) throw new ArgumentException("A view needs a shape of rank 1 or more.", nameof(shape));
        if (shape.ElementCount > AllocatedLength)
            throw new ArgumentException($"A view {shape} needs {shape.ElementCount} values; the buffer {Shape} holds {AllocatedLength}.", nameof(shape));
    }

    protected void CheckLength(int length, string what)
    {
        if (length != Shape.ElementCount)
            throw new ArgumentException($"{what} has {length} values; the buffer {Shape} holds {Shape.ElementCount}.");
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
