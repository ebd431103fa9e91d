using NativeCnn.Tensors;

namespace NativeCnn.Tests.Tensors;

public class TensorShapeTests
{
    [Theory]
    [InlineData(new[] { 5 }, 5L)]
    [InlineData(new[] { 0 }, 0L)]
    [InlineData(new[] { 3, 7 }, 21L)]
    [InlineData(new[] { 2, 3, 5 }, 30L)]
    [InlineData(new[] { 1, 112, 112, 32 }, 401_408L)]
    [InlineData(new[] { 4, 0, 9, 3 }, 0L)]
    [InlineData(new[] { 65_536, 65_536, 2 }, 8_589_934_592L)]
    public void ConstructorKeepsDimensionsAndCountsElements(int[] dimensions, long elementCount)
    {
        var shape = new TensorShape(dimensions);

        Assert.Equal(dimensions.Length, shape.Rank);
        Assert.Equal(dimensions, shape.ToArray());
        Assert.Equal(elementCount, shape.ElementCount);
        for (int i = 0; i < dimensions.Length; i++) Assert.Equal(dimensions[i], shape[i]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(8)]
    public void ConstructorRejectsRankOutsideOneToFour(int rank)
    {
        var e = Assert.Throws<ArgumentException>(() => new TensorShape(new int[rank]));
        Assert.Contains($"rank {rank}", e.Message);
    }

    [Theory]
    [InlineData(new[] { -1 }, 0)]
    [InlineData(new[] { 1, 2, -3 }, 2)]
    [InlineData(new[] { 1, int.MinValue, 3, 4 }, 1)]
    public void ConstructorRejectsNegativeDimensions(int[] dimensions, int badAxis)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TensorShape(dimensions));
        Assert.Contains($"Dimension {badAxis} is negative", e.Message);
    }

    [Fact]
    public void ConstructorRejectsElementCountsThatOverflow()
    {
        // 2^64 elements would wrap a long to 0 and let a tensor allocate nothing for a huge shape.
        Assert.Throws<ArgumentException>(() => new TensorShape(65_536, 65_536, 65_536, 65_536));
        Assert.Throws<ArgumentException>(() => new TensorShape(int.MaxValue, int.MaxValue, int.MaxValue, 2));
        Assert.Equal(0, new TensorShape(int.MaxValue, int.MaxValue, int.MaxValue, 0).ElementCount);
    }

    [Fact]
    public void IndexerCountsNegativeAxesFromTheEnd()
    {
        var shape = new TensorShape(2, 3, 5, 7);

        Assert.Equal(7, shape[-1]);
        Assert.Equal(5, shape[-2]);
        Assert.Equal(3, shape[-3]);
        Assert.Equal(2, shape[-4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => shape[-5]);
        Assert.Throws<ArgumentOutOfRangeException>(() => shape[4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TensorShape(9)[1]);
        Assert.Equal(9, new TensorShape(9)[-1]);
    }

    [Fact]
    public void NhwcAccessorsNameTheDimensions()
    {
        var shape = TensorShape.Nhwc(2, 11, 13, 17);

        Assert.Equal(new TensorShape(2, 11, 13, 17), shape);
        Assert.Equal(2, shape.Batch);
        Assert.Equal(11, shape.Height);
        Assert.Equal(13, shape.Width);
        Assert.Equal(17, shape.Channels);
    }

    [Fact]
    public void RankTwoShapeIsBatchAndFeatures()
    {
        var shape = new TensorShape(8, 1000);

        Assert.Equal(8, shape.Batch);
        Assert.Equal(1000, shape.Channels);
        var e = Assert.Throws<InvalidOperationException>(() => shape.Height);
        Assert.Contains("(8, 1000)", e.Message);
        Assert.Throws<InvalidOperationException>(() => shape.Width);
    }

    [Theory]
    [InlineData(new[] { 1, 2, 3, 4 }, "(1, 2, 3, 4)")]
    [InlineData(new[] { 5 }, "(5,)")]
    [InlineData(new[] { 8, 1000 }, "(8, 1000)")]
    [InlineData(new[] { 0, 3, 0 }, "(0, 3, 0)")]
    public void ToStringFormatsAPythonTuple(int[] dimensions, string expected) =>
        Assert.Equal(expected, new TensorShape(dimensions).ToString());

    [Theory]
    [InlineData(new[] { 1, 112, 112, 32 }, "(None, 112, 112, 32)")]
    [InlineData(new[] { 8, 1000 }, "(None, 1000)")]
    [InlineData(new[] { 3 }, "(None,)")]
    public void ToKerasStringShowsTheBatchAsNone(int[] dimensions, string expected) =>
        Assert.Equal(expected, new TensorShape(dimensions).ToKerasString());

    [Fact]
    public void EqualityComparesRankAndEveryDimension()
    {
        var a = new TensorShape(1, 2, 3);
        var same = new TensorShape(1, 2, 3);

        Assert.True(a == same);
        Assert.False(a != same);
        Assert.True(a.Equals(same));
        Assert.True(a.Equals((object)same));
        Assert.Equal(a.GetHashCode(), same.GetHashCode());

        Assert.NotEqual(a, new TensorShape(1, 2, 4));
        Assert.NotEqual(a, new TensorShape(1, 2, 3, 1));
        Assert.NotEqual(new TensorShape(5), new TensorShape(5, 0));
        Assert.True(a != new TensorShape(3, 2, 1));
        Assert.False(a.Equals("(1, 2, 3)"));
        Assert.Equal(default, default(TensorShape));
        Assert.NotEqual(default, new TensorShape(0));
    }

    [Fact]
    public void DefaultShapeHasRankZero()
    {
        var shape = default(TensorShape);

        Assert.Equal(0, shape.Rank);
        Assert.Equal(0, shape.ElementCount);
        Assert.Equal("()", shape.ToString());
        Assert.Empty(shape.ToArray());
    }

    [Fact]
    public void WithBatchReplacesOnlyTheFirstDimension()
    {
        var shape = new TensorShape(1, 224, 224, 3);

        Assert.Equal(new TensorShape(32, 224, 224, 3), shape.WithBatch(32));
        Assert.Equal(new TensorShape(7), new TensorShape(1).WithBatch(7));
        Assert.Equal(new TensorShape(0, 10), new TensorShape(4, 10).WithBatch(0));
        Assert.Equal(new TensorShape(1, 224, 224, 3), shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => shape.WithBatch(-1));
        Assert.Throws<InvalidOperationException>(() => default(TensorShape).WithBatch(1));
    }
}
