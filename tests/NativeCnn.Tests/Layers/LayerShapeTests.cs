using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Layers;

public sealed class LayerShapeTests
{
    [Theory]
    [InlineData(Padding.Same, 2, 112, 112, 56, 56)]
    [InlineData(Padding.Same, 2, 113, 75, 57, 38)]   // odd sizes: ceil(in / stride)
    [InlineData(Padding.Valid, 2, 113, 75, 56, 37)]  // floor((in - k) / s) + 1
    [InlineData(Padding.Same, 1, 7, 9, 7, 9)]
    [InlineData(Padding.Valid, 1, 7, 9, 5, 7)]
    public void Conv2DOutputShapeFollowsTensorFlow(Padding padding, int strides, int height, int width, int outHeight, int outWidth)
    {
        var input = Node.Input(height, width, 5);
        var output = new Conv2D("conv", 8, 3, strides, padding).Call(input);
        Assert.Equal(TensorShape.Nhwc(1, outHeight, outWidth, 8), output.OutputShape);
    }

    [Fact]
    public void ConvolutionWeightsHaveKerasNamesAndLayouts()
    {
        var input = Node.Input(16, 12, 5);
        var conv = new Conv2D("block_conv", 7, (3, 5));
        var depthwise = new DepthwiseConv2D("block_dwconv", (5, 3), depthMultiplier: 2, useBias: false);
        var x = depthwise.Call(conv.Call(input));

        Assert.Equal(["kernel", "bias"], conv.Weights.Select(w => w.Name));
        Assert.Equal(new TensorShape(3, 5, 5, 7), conv.GetWeight("kernel").Shape);          // HWIO
        Assert.Equal("block_conv/kernel", conv.GetWeight("kernel").FullName);
        Assert.Equal(["depthwise_kernel"], depthwise.Weights.Select(w => w.Name));
        Assert.Equal(new TensorShape(5, 3, 7, 2), depthwise.GetWeight("depthwise_kernel").Shape); // (kh, kw, in, multiplier)
        Assert.Equal(TensorShape.Nhwc(1, 10, 6, 14), x.OutputShape); // 16x12 -(3x5)-> 14x8 -(5x3)-> 10x6
    }

    [Fact]
    public void BatchNormalizationWeightsAreInKerasOrderWithNonTrainableStatistics()
    {
        var bn = new BatchNormalization("bn");
        bn.Call(Node.Input(4, 4, 6));
        Assert.Equal(["gamma", "beta", "moving_mean", "moving_variance"], bn.Weights.Select(w => w.Name));
        Assert.Equal(24, bn.ParameterCount);
        Assert.Equal(12, bn.TrainableParameterCount);
    }

    [Fact]
    public void AddWithDifferentShapesNamesTheLayerAndBothShapes()
    {
        var input = Node.Input(8, 8, 4);
        var a = new Conv2D("a", 4, 1).Call(input);
        var b = new Conv2D("b", 5, 1).Call(input);
        var e = Assert.Throws<LayerException>(() => new Add("block1_add").Call(a, b));
        Assert.Equal("block1_add", e.LayerName);
        Assert.Contains("(1, 8, 8, 4)", e.Message);
        Assert.Contains("(1, 8, 8, 5)", e.Message);
    }

    [Fact]
    public void ReusedLayerRejectsInputWithOtherChannelCount()
    {
        var conv = new Conv2D("shared_conv", 4, 3, padding: Padding.Same);
        conv.Call(Node.Input(8, 8, 3));
        var e = Assert.Throws<LayerException>(() => conv.Call(Node.Input(8, 8, 5, "other_input")));
        Assert.Contains("shared_conv", e.Message);
        Assert.Contains("3 channels", e.Message);
        Assert.Contains("(1, 8, 8, 5)", e.Message);
    }

    [Fact]
    public void WrongRankInputsAreNamedErrors()
    {
        var image = Node.Input(8, 8, 3);
        var flat = new GlobalAveragePooling2D("gap").Call(image);
        Assert.Contains("predictions", Assert.Throws<LayerException>(() => new Dense("predictions", 10).Call(image)).Message);
        var e = Assert.Throws<LayerException>(() => new Conv2D("conv_on_vector", 4, 1).Call(flat));
        Assert.Contains("rank-4", e.Message);
        Assert.Contains("(1, 3)", e.Message);
        Assert.Throws<LayerException>(() => new Reshape("bad_reshape", 2, 2, 2).Call(flat));
        Assert.Throws<LayerException>(() => new Multiply("bad_multiply").Call(image, flat));
    }

    [Fact]
    public void WindowLargerThanInputIsANamedError()
    {
        var e = Assert.Throws<LayerException>(() => new Conv2D("too_big", 4, 5).Call(Node.Input(3, 8, 2)));
        Assert.Contains("too_big", e.Message);
        Assert.Contains("5x5", e.Message);
    }

    [Fact]
    public void InvalidArgumentsAreRejectedWithTheLayerName()
    {
        Assert.Contains("conv0", Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2D("conv0", 0, 3)).Message);
        Assert.Contains("strides", Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2D("conv1", 4, 3, strides: -1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DepthwiseConv2D("dw", (3, 3), depthMultiplier: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout("drop", 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ZeroPadding2D("pad", new Padding2D(-1, 0, 0, 0)));
        Assert.Throws<ArgumentException>(() => new Conv2D("conv/slash", 4, 3));
        Assert.Throws<ArgumentException>(() => new Conv2D("conv_softmax", 4, 3, activation: ActivationFunction.Softmax));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TensorShape(1, -2, 3));
    }

    [Fact]
    public void PaddingAndPoolingShapes()
    {
        var input = Node.Input(7, 10, 3);
        var padded = new ZeroPadding2D("pad", new Padding2D(0, 1, 2, 3)).Call(input);
        Assert.Equal(TensorShape.Nhwc(1, 8, 15, 3), padded.OutputShape);
        Assert.Equal(TensorShape.Nhwc(1, 3, 7, 3), new MaxPooling2D("pool", 3, 2).Call(padded).OutputShape);
        Assert.Equal(TensorShape.Nhwc(1, 4, 8, 3), new AveragePooling2D("avg", 3, 2, Padding.Same).Call(padded).OutputShape);
        Assert.Equal(new TensorShape(1, 3), new GlobalMaxPooling2D("gmp").Call(padded).OutputShape);
        Assert.Equal(TensorShape.Nhwc(1, 1, 1, 3), new GlobalAveragePooling2D("gap", keepDims: true).Call(padded).OutputShape);
        Assert.Equal(new TensorShape(1, 360), new Flatten("flatten").Call(padded).OutputShape);
    }
}
