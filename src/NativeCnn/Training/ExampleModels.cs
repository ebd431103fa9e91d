using NativeCnn.Backends;
using NativeCnn.Layers;
using NativeCnn.Models;

namespace NativeCnn.Training;

/// <summary>Small models to train from scratch, as the Keras and TensorFlow.js tutorials build them.</summary>
public static class ExampleModels
{
    /// <summary>
    /// The Fashion-MNIST CNN of the README: two blocks of 3×3 convolution (32 then 64 filters, 'same', no bias),
    /// BatchNormalization, ReLU and 2×2 max pooling, then Flatten, Dense(256, relu), Dropout(0.2) and a softmax Dense.
    /// 824,746 parameters for 28×28×1 inputs and 10 classes. Weights are Keras's default initializers (Glorot uniform,
    /// seeded from the layer names).
    /// </summary>
    /// <param name="height">Input height (28 for Fashion-MNIST).</param>
    /// <param name="width">Input width.</param>
    /// <param name="channels">Input channels (1 for grayscale).</param>
    /// <param name="classes">Output classes.</param>
    public static Model FashionMnistCnn(int height = 28, int width = 28, int channels = 1, int classes = 10)
    {
        var input = Node.Input(height, width, channels, "input_layer");
        var x = input;
        foreach (var (block, filters) in new[] { (1, 32), (2, 64) })
        {
            x = new Conv2D($"conv{block}", filters, 3, padding: Padding.Same, useBias: false).Call(x);
            x = new BatchNormalization($"bn{block}").Call(x);
            x = new ReLU($"relu{block}").Call(x);
            x = new MaxPooling2D($"pool{block}", 2).Call(x);
        }
        x = new Flatten("flatten").Call(x);
        x = new Dense("dense", 256, ActivationFunction.Relu).Call(x);
        x = new Dropout("dropout", 0.2).Call(x);
        x = new Dense("predictions", classes, ActivationFunction.Softmax).Call(x);
        return new Model("fashion_mnist_cnn", input, x);
    }
}
