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

    private readonly long _byteCount;

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
        return true;
    }
}
