using System.Runtime.InteropServices;

namespace NativeCnn.Tensors;

/// <summary>
/// Owns a block of native memory, 64-byte aligned (one cache line, one Vector512), zero-filled.
/// Released by <see cref="SafeHandle"/> semantics, so a forgotten <c>Dispose</c> is caught by the finalizer.
/// </summary>
public sealed unsafe class AlignedBuffer : SafeHandle
{
    /// <summary>The alignment of every buffer, in bytes.</summary>
    public const int Alignment = 64;

    private static long s_liveBytes, s_allocatedBytes;

    private readonly long _byteCount;

    /// <summary>Bytes held by buffers not yet released, process-wide (for tests: a failed load must return to where it began).</summary>
    internal static long LiveBytes => Interlocked.Read(ref s_liveBytes);

    /// <summary>Bytes ever allocated, process-wide (for tests: a refused file must allocate nothing for what it declares).</summary>
    internal static long AllocatedBytes => Interlocked.Read(ref s_allocatedBytes);

    /// <summary>Allocates <paramref name="floatCount"/> zeroed floats.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative or larger than a span can address.</exception>
    /// <exception cref="OutOfMemoryException">The allocation failed.</exception>
    public AlignedBuffer(long floatCount) : base(IntPtr.Zero, ownsHandle: true)
    {
        if (floatCount < 0 || floatCount > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(floatCount), $"A buffer holds 0 to {int.MaxValue} floats, asked for {floatCount}.");
        Length = (int)floatCount;
        _byteCount = Math.Max(1, floatCount) * sizeof(float);
        void* p = NativeMemory.AlignedAlloc((nuint)_byteCount, Alignment);
        if (p == null) throw new OutOfMemoryException($"Could not allocate {_byteCount} bytes of aligned memory.");
        NativeMemory.Clear(p, (nuint)_byteCount);
        SetHandle((IntPtr)p);
        GC.AddMemoryPressure(_byteCount);
        Interlocked.Add(ref s_liveBytes, _byteCount);
        Interlocked.Add(ref s_allocatedBytes, _byteCount);
    }

    /// <summary>The number of floats in the buffer.</summary>
    public int Length { get; }

    /// <summary>The first element. Valid only while the buffer is alive.</summary>
    public float* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (float*)handle;
        }
    }

    /// <summary>The whole buffer as a span.</summary>
    public Span<float> AsSpan() => new(Pointer, Length);

    /// <inheritdoc/>
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        GC.RemoveMemoryPressure(_byteCount);
        Interlocked.Add(ref s_liveBytes, -_byteCount);
        return true;
    }
}
