using NativeCnn.Tensors;

namespace NativeCnn.Tests.Tensors;

public unsafe class AlignedBufferTests
{
    public static TheoryData<int> Sizes => [0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65, 100, 255, 1000, 4099, 65_537, 1_000_003];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void PointerIsSixtyFourByteAligned(int floatCount)
    {
        using var buffer = new AlignedBuffer(floatCount);

        Assert.Equal(0, (long)(nint)buffer.Pointer % AlignedBuffer.Alignment);
        Assert.Equal(floatCount, buffer.Length);
        Assert.Equal(floatCount, buffer.AsSpan().Length);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void NewBufferIsZeroFilled(int floatCount)
    {
        using var buffer = new AlignedBuffer(floatCount);

        Assert.Equal(-1, buffer.AsSpan().IndexOfAnyExcept(0f));
    }

    [Fact]
    public void ManyLiveBuffersAreAllAlignedAndDistinct()
    {
        var buffers = new List<AlignedBuffer>();
        try
        {
            for (int i = 0; i < 200; i++) buffers.Add(new AlignedBuffer(i % 37));
            var addresses = new HashSet<nint>();
            foreach (var buffer in buffers)
            {
                Assert.Equal(0, (long)(nint)buffer.Pointer % AlignedBuffer.Alignment);
                Assert.True(addresses.Add((nint)buffer.Pointer), "two live buffers share an address");
            }
        }
        finally
        {
            foreach (var buffer in buffers) buffer.Dispose();
        }
    }

    [Fact]
    public void WritesThroughTheSpanAreSeenThroughThePointer()
    {
        using var buffer = new AlignedBuffer(17);

        buffer.AsSpan()[16] = 2.5f;
        buffer.Pointer[3] = -1f;

        Assert.Equal(2.5f, buffer.Pointer[16]);
        Assert.Equal(-1f, buffer.AsSpan()[3]);
    }

    [Fact]
    public void PointerAndSpanThrowAfterDispose()
    {
        var buffer = new AlignedBuffer(17);
        buffer.Dispose();

        Assert.True(buffer.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => (nint)buffer.Pointer);
        Assert.Throws<ObjectDisposedException>(() => buffer.AsSpan().Length);
        buffer.Dispose(); // a second Dispose is harmless
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    [InlineData(int.MaxValue + 1L)]
    public void ConstructorRejectsCountsASpanCannotAddress(long floatCount)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedBuffer(floatCount));
        Assert.Contains(floatCount.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }
}
