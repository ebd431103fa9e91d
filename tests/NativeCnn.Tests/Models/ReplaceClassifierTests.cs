using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;
using NativeCnn.Tensors;
using NativeCnn.Tests.Weights;

namespace NativeCnn.Tests.Models;

/// <summary>
/// <see cref="Model.ReplaceClassifier"/>: the new head sits on the old head's input, the rest is shared (weights and
/// trainable flags), and both the Dense heads of the applications and MobileNet's 1×1 convolution heads are replaced.
/// </summary>
[Collection(NativeMemoryCollection.Name)]
public sealed class ReplaceClassifierTests
{
    [Theory]
    [InlineData("mobilenetv2", "global_average_pooling2d", 1280)] // Dense head after pooling
    [InlineData("mobilenetv3small", "dropout", 1024)]             // 1x1 Conv2D 'logits', Flatten, Activation
    [InlineData("mobilenet", "dropout", 1024)]                    // 1x1 Conv2D 'conv_preds', Reshape, Activation
    public void TheNewHeadSitsOnTheOldHeadsInputAndSharesTheRest(string architecture, string featuresSuffix, int features)
    {
        using var model = ModelZoo.Create(architecture, new ApplicationOptions { Alpha = architecture == "mobilenetv2" ? 0.35 : 1.0, Resolution = 96, Classes = 11 });
        using var replaced = model.ReplaceClassifier(5);

        var head = Assert.IsType<Dense>(replaced.Output.Layer);
        Assert.Equal("predictions", head.Name);
        Assert.Equal(ActivationKind.Softmax, head.Activation.Kind);
        Assert.Equal(new TensorShape(1, 5), replaced.Output.OutputShape);
        Assert.Equal(new TensorShape(features, 5), head.Weights[0].Value.Shape);
        var featureNode = replaced.Output.Inputs[0].Layer is Flatten ? replaced.Output.Inputs[0].Inputs[0] : replaced.Output.Inputs[0];
        Assert.EndsWith(featuresSuffix, featureNode.Name, StringComparison.Ordinal);

        // Every layer before the head is the base model's own object, so the weights are shared, not copied.
        var baseLayers = model.Layers.ToHashSet();
        Assert.All(replaced.Layers.Where(l => l != head && l is not Flatten { Name: "predictions_flatten" }), l => Assert.Contains(l, baseLayers));
        long oldHead = model.ParameterCount - replaced.ParameterCount + (features + 1) * 5;
        Assert.True(oldHead == (features + 1) * 11, $"{architecture}: the old head had {oldHead} parameters, expected {(features + 1) * 11}");

        // Freezing the base leaves only the new head trainable.
        foreach (var layer in replaced.Layers) layer.Trainable = layer == head;
        Assert.Equal((features + 1) * 5, replaced.TrainableParameterCount);
    }

    [Fact]
    public void PredictionsOfTheNewHeadAreItsDenseOnTheBaseFeatures()
    {
        using var model = ModelZoo.Create("mobilenetv2", new ApplicationOptions { Alpha = 0.35, Resolution = 32, Classes = 3 });
        using var replaced = model.ReplaceClassifier(4, ActivationFunction.Linear, "logits");
        using var features = model.Features("global_average_pooling2d");
        using var image = new Tensor(TensorShape.Nhwc(2, 32, 32, 3));
        TestData.Uniform(7, image.Length, 0, 255).CopyTo(image.Span);

        using var pooled = features.Predict(image);
        using var logits = replaced.Predict(image);
        var kernel = replaced.Output.Layer.Weights[0].Value.Span;
        var bias = replaced.Output.Layer.Weights[1].Value.Span;
        for (int n = 0; n < 2; n++)
            for (int k = 0; k < 4; k++)
            {
                double expected = bias[k];
                for (int c = 0; c < pooled.Shape[1]; c++) expected += (double)pooled.Span[n * pooled.Shape[1] + c] * kernel[c * 4 + k];
                Assert.Equal(expected, logits.Span[n * 4 + k], 1e-4);
            }
        Assert.NotEqual(0f, kernel[0]); // Glorot-initialized, not zeros
    }

    [Fact]
    public void ModelsWithoutAClassifierOrWithATakenNameAreRefused()
    {
        var input = Node.Input(height: 4, width: 4, channels: 2);
        var pooled = new GlobalAveragePooling2D("pool").Call(input);
        using var noWeights = new Model("pool_only", input, pooled);
        Assert.Contains("no classifier", Assert.Throws<InvalidOperationException>(() => noWeights.ReplaceClassifier(3)).Message);

        var conv = new Conv2D("predictions", filters: 2, kernelSize: 1).Call(input);
        var dense = new Dense("head", units: 2).Call(new GlobalAveragePooling2D("gap").Call(conv));
        using var taken = new Model("taken", input, dense);
        Assert.Contains("'predictions' stays", Assert.Throws<InvalidOperationException>(() => taken.ReplaceClassifier(3)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => taken.ReplaceClassifier(0));
    }
}
