using System.Numerics.Tensors;
using NativeCnn.Tensors;
using Tensor = NativeCnn.Tensors.Tensor;

namespace NativeCnn.Tests.Tensors;

public unsafe class TensorTests
{
    public static TheoryData<int[]> Shapes =>
    [
        [1], [5], [0], [3, 7], [2, 3, 5], [1, 1, 1, 1], [2, 5, 3, 7], [1, 9, 4, 17], [3, 0, 2, 2],
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FromArrayAndToArrayRoundTrip(int[] dimensions)
    {
        var shape = new TensorShape(dimensions);
        var data = TestData.Uniform(seed: 20240601 + dimensions.Length, (int)shape.ElementCount);

        using var tensor = Tensor.FromArray(data, shape);

        Assert.Equal(shape, tensor.Shape);
        Assert.Equal(data.Length, tensor.Length);
        Assert.Equal(data, tensor.ToArray());
        Assert.Equal(0, (long)(nint)tensor.Pointer % AlignedBuffer.Alignment);
        var copy = new float[data.Length];
        tensor.CopyTo(copy);
        Assert.Equal(data, copy);
    }

    [Fact]
    public void NewTensorIsZeroFilled()
    {
        using var tensor = new Tensor(2, 3, 5, 7);

        Assert.Equal(new TensorShape(2, 3, 5, 7), tensor.Shape);
        Assert.Equal(210, tensor.Length);
        Assert.Equal(-1, tensor.Span.IndexOfAnyExcept(0f));
    }

    [Fact]
    public void ConstructorRejectsEmptyAndOversizedShapes()
    {
        Assert.Throws<ArgumentException>(() => new Tensor(default(TensorShape)));
        var e = Assert.Throws<ArgumentException>(() => new Tensor(65_536, 65_536));
        Assert.Contains("(65536, 65536)", e.Message);
    }

    [Fact]
    public void CopyFromLengthMismatchNamesBothLengths()
    {
        using var tensor = new Tensor(2, 3);

        var e = Assert.Throws<ArgumentException>(() => tensor.CopyFrom(new float[5]));
        Assert.Contains("6", e.Message);
        Assert.Contains("5", e.Message);
        Assert.Contains("(2, 3)", e.Message);
        Assert.Equal("source", e.ParamName);

        var f = Assert.Throws<ArgumentException>(() => tensor.CopyTo(new float[7]));
        Assert.Contains("6", f.Message);
        Assert.Contains("7", f.Message);
        Assert.Equal("destination", f.ParamName);

        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new float[4], new TensorShape(5)));
    }

    [Fact]
    public void AtIndexesRowMajorNhwc()
    {
        const int batch = 2, height = 3, width = 5, channels = 7;
        var data = new float[batch * height * width * channels];
        for (int i = 0; i < data.Length; i++) data[i] = i;
        using var tensor = Tensor.FromArray(data, TensorShape.Nhwc(batch, height, width, channels));

        for (int n = 0; n < batch; n++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    for (int c = 0; c < channels; c++)
                        Assert.Equal(((n * height + y) * width + x) * channels + c, tensor.At(n, y, x, c));

        tensor.At(1, 2, 4, 6) = -1f;
        Assert.Equal(-1f, tensor.Span[^1]);
    }

    [Theory]
    [InlineData(-1, 0, 0, 0)]
    [InlineData(2, 0, 0, 0)]
    [InlineData(0, 3, 0, 0)]
    [InlineData(0, 0, 5, 0)]
    [InlineData(0, 0, 0, 7)]
    [InlineData(0, 0, -1, 0)]
    [InlineData(0, 0, 0, int.MinValue)]
    public void AtChecksEveryIndex(int n, int y, int x, int c)
    {
        using var tensor = new Tensor(2, 3, 5, 7);

        var e = Assert.Throws<IndexOutOfRangeException>(() => tensor.At(n, y, x, c));
        Assert.Contains($"({n}, {y}, {x}, {c})", e.Message);
        Assert.Contains("(2, 3, 5, 7)", e.Message);
    }

    [Fact]
    public void AtNeedsRankFour()
    {
        using var tensor = new Tensor(2, 3);

        Assert.Throws<InvalidOperationException>(() => tensor.At(0, 0, 0, 0));
    }

    [Fact]
    public void MemberAccessAfterDisposeThrows()
    {
        var tensor = new Tensor(4);
        tensor.Dispose();

        Assert.Throws<ObjectDisposedException>(() => tensor.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => tensor.ToArray());
        Assert.Throws<ObjectDisposedException>(() => tensor.CopyFrom(new float[4]));
        Assert.Equal("Tensor(4,)", tensor.ToString());
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void NumericsTensorRoundTrip(int[] dimensions)
    {
        var shape = new TensorShape(dimensions);
        var data = TestData.Uniform(seed: 7 + dimensions.Length, (int)shape.ElementCount);
        using var tensor = Tensor.FromArray(data, shape);

        var numerics = tensor.ToNumericsTensor();
        Assert.Equal(dimensions.Select(d => (nint)d).ToArray(), numerics.Lengths.ToArray());
        Assert.Equal(data.Length, numerics.FlattenedLength);

        using var back = Tensor.FromNumerics(numerics.AsReadOnlyTensorSpan());
        Assert.Equal(shape, back.Shape);
        Assert.Equal(data, back.ToArray());
    }

    [Fact]
    public void NumericsTensorIsACopy()
    {
        using var tensor = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], new TensorShape(2, 3));

        var numerics = tensor.ToNumericsTensor();
        tensor.Span[0] = 100f;

        Assert.Equal(1f, numerics[0, 0]);
        Assert.Equal(6f, numerics[1, 2]);
    }

    [Fact]
    public void AsTensorSpanSharesMemoryRowMajor()
    {
        const int batch = 2, height = 3, width = 5, channels = 7;
        var data = TestData.Uniform(seed: 11, batch * height * width * channels);
        using var tensor = Tensor.FromArray(data, TensorShape.Nhwc(batch, height, width, channels));

        var span = tensor.AsTensorSpan();
        Assert.Equal([batch, height, width, channels], span.Lengths.ToArray());
        Assert.Equal(tensor.At(1, 2, 3, 4), span[1, 2, 3, 4]);
        Assert.Equal(tensor.At(0, 1, 4, 6), span[0, 1, 4, 6]);

        span[1, 0, 2, 5] = 42f;
        Assert.Equal(42f, tensor.At(1, 0, 2, 5));

        using var copy = Tensor.FromNumerics(tensor.AsTensorSpan());
        Assert.Equal(tensor.ToArray(), copy.ToArray());
    }

    [Fact]
    public void FromNumericsCopiesAStridedSlice()
    {
        var source = System.Numerics.Tensors.Tensor.Create(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), [4, 6]);
        var slice = source.AsReadOnlyTensorSpan()[1..3, 2..5];

        using var tensor = Tensor.FromNumerics(slice);

        Assert.Equal(new TensorShape(2, 3), tensor.Shape);
        Assert.Equal([8f, 9f, 10f, 14f, 15f, 16f], tensor.ToArray());
    }

    [Fact]
    public void FromNumericsRejectsRankAboveFour()
    {
        var source = System.Numerics.Tensors.Tensor.Create(new float[32], [2, 2, 2, 2, 2]);

        var e = Assert.Throws<ArgumentException>(() => Tensor.FromNumerics(source.AsReadOnlyTensorSpan()));
        Assert.Contains("rank 5", e.Message);
    }
}
