using NativeCnn.Imaging;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Imaging;

/// <summary>Keras <c>preprocess_input</c> modes against values worked out by hand.</summary>
public sealed class ImagePreprocessingTests
{
    // Two pixels, (R, G, B) = (10, 20, 30) and (255, 0, 128), in a 2-wide, 1-high image.
    private static readonly RgbImage Preallocated = Sample();

    private static RgbImage Sample() => new(2, 1, [10, 20, 30, 255, 0, 128]);

    // Expected values are Keras's numpy float32 results (imagenet_utils._preprocess_numpy_input) for these two pixels,
    // printed to 9 digits; by hand: caffe (30 − 103.939, 20 − 116.779, 10 − 123.68) in BGR order, tf 10 / 127.5 − 1 = −0.92157,
    // torch (10 / 255 − 0.485) / 0.229 = −1.94666. C# float32 arithmetic in Keras's order reproduces them exactly.
    [Theory]
    [InlineData(PreprocessingMode.None, new[] { 10f, 20f, 30f, 255f, 0f, 128f })]
    [InlineData(PreprocessingMode.Caffe, new[] { -73.939003f, -96.7789993f, -113.68f, 24.060997f, -116.778999f, 131.320007f })]
    [InlineData(PreprocessingMode.Tf, new[] { -0.921568632f, -0.843137264f, -0.764705896f, 1f, -1f, 0.003921628f })]
    [InlineData(PreprocessingMode.Torch, new[] { -1.94665647f, -1.68557417f, -1.28156865f, 2.24890828f, -2.03571415f, 0.426492572f })]
    public void MatchesKerasValues(PreprocessingMode mode, float[] expected)
    {
        using var tensor = ImagePreprocessing.ToTensor(Sample(), mode);
        Assert.Equal(TensorShape.Nhwc(1, 1, 2, 3), tensor.Shape);
        Assert.Equal(expected, tensor.ToArray());
    }

    [Fact]
    public void WritesIntoABatchSlotWithoutTouchingTheOthers()
    {
        using var batch = new Tensor(3, 1, 2, 3);
        batch.Span.Fill(42f);
        ImagePreprocessing.WriteInto(Sample(), PreprocessingMode.None, batch, 1);
        var values = batch.ToArray();
        Assert.All(values.AsSpan(0, 6).ToArray(), v => Assert.Equal(42f, v));
        Assert.Equal(new[] { 10f, 20f, 30f, 255f, 0f, 128f }, values.AsSpan(6, 6).ToArray());
        Assert.All(values.AsSpan(12, 6).ToArray(), v => Assert.Equal(42f, v));
        ImagePreprocessing.WriteInto(Preallocated, PreprocessingMode.Torch, batch, 2); // warm up (JIT)
        long before = GC.GetAllocatedBytesForCurrentThread();
        ImagePreprocessing.WriteInto(Preallocated, PreprocessingMode.Torch, batch, 2);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void BuildsBatchesAndRejectsMismatchedShapes()
    {
        using var batch = ImagePreprocessing.ToTensor([Sample(), Sample()], PreprocessingMode.Tf);
        Assert.Equal(TensorShape.Nhwc(2, 1, 2, 3), batch.Shape);
        using var wrong = new Tensor(1, 2, 1, 3);
        Assert.Throws<ArgumentException>(() => ImagePreprocessing.WriteInto(Sample(), PreprocessingMode.None, wrong, 0));
        using var right = new Tensor(1, 1, 2, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => ImagePreprocessing.WriteInto(Sample(), PreprocessingMode.None, right, 1));
        Assert.Throws<ArgumentException>(() => ImagePreprocessing.ToTensor([Sample(), new RgbImage(3, 1)], PreprocessingMode.None));
    }
}
