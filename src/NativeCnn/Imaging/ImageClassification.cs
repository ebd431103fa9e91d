using NativeCnn.Models;

namespace NativeCnn.Imaging;

/// <summary>
/// Image classification with a model, as <c>keras.utils.load_img(path, target_size)</c> → <c>preprocess_input</c> →
/// <c>model.predict</c> → <c>decode_predictions</c> does it.
/// </summary>
public static class ImageClassification
{
    /// <summary>
    /// The preprocessing the Keras application a model comes from expects, recognized from the Keras model name:
    /// ResNet <c>caffe</c>, MobileNet <c>tf</c> ([-1, 1]), EfficientNet none (it normalizes inside the model).
    /// </summary>
    /// <exception cref="ArgumentException">The name is not one of those families; pass the mode explicitly.</exception>
    public static PreprocessingMode DefaultPreprocessing(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        string name = model.Name.ToLowerInvariant();
        if (name.StartsWith("resnet", StringComparison.Ordinal)) return PreprocessingMode.Caffe;
        if (name.StartsWith("mobilenet", StringComparison.Ordinal)) return PreprocessingMode.Tf;
        if (name.StartsWith("efficientnet", StringComparison.Ordinal)) return PreprocessingMode.None;
        throw new ArgumentException($"{model.Name}: cannot tell which Keras preprocessing the model expects; pass a PreprocessingMode.", nameof(model));
    }

    /// <summary>
    /// Resizes <paramref name="image"/> to the model's input size, preprocesses it, runs the model and returns the
    /// <paramref name="topK"/> most probable classes, most probable first.
    /// </summary>
    /// <param name="model">A classifier: NHWC RGB input, one score per class out.</param>
    /// <param name="image">The image, any size.</param>
    /// <param name="topK">How many classes to return.</param>
    /// <param name="preprocessing">The input preprocessing; by default <see cref="DefaultPreprocessing"/>.</param>
    /// <param name="labels">Class names; by default ImageNet's for 1000 classes.</param>
    /// <param name="interpolation">The resize filter; Keras's <c>load_img</c> default is nearest.</param>
    /// <exception cref="ArgumentException">The model is not an image classifier, or the labels do not match its classes.</exception>
    public static IReadOnlyList<ClassPrediction> Classify(this Model model, RgbImage image, int topK = 5, PreprocessingMode? preprocessing = null,
                                                          IReadOnlyList<string>? labels = null, ResizeInterpolation interpolation = ResizeInterpolation.Nearest)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        var input = model.Input.OutputShape;
        if (input.Rank != 4 || input.Channels != 3) throw new ArgumentException($"{model.Name}: expected an RGB image input, the model takes {input.ToKerasString()}.", nameof(model));
        var outputShape = model.Output.OutputShape;
        if (outputShape.Rank != 2) throw new ArgumentException($"{model.Name}: expected one score per class, the model outputs {outputShape.ToKerasString()}.", nameof(model));
        int classes = outputShape[1];
        labels ??= classes == ImageNetLabels.Names.Count ? ImageNetLabels.Names : null;
        if (labels is not null && labels.Count != classes)
            throw new ArgumentException($"{model.Name}: {labels.Count} labels for {classes} classes.", nameof(labels));

        using var tensor = model.PrepareInput(image, preprocessing, interpolation);
        using var output = model.Predict(tensor);
        var probabilities = Probabilities(output.Span);
        return Enumerable.Range(0, classes)
            .OrderByDescending(i => probabilities[i]).ThenBy(i => i)
            .Take(topK)
            .Select(i => new ClassPrediction(i, labels?[i] ?? $"class {i}", (float)probabilities[i]))
            .ToArray();
    }

    /// <summary>
    /// <paramref name="image"/> as <paramref name="model"/>'s input: resized to the model's input size (Keras's
    /// <c>load_img(target_size=...)</c>) and preprocessed for its family, a <c>(1, H, W, 3)</c> tensor the caller disposes.
    /// </summary>
    /// <param name="model">A model with an NHWC RGB input of fixed size.</param>
    /// <param name="image">The image, any size.</param>
    /// <param name="preprocessing">The input preprocessing; by default <see cref="DefaultPreprocessing"/>.</param>
    /// <param name="interpolation">The resize filter; Keras's <c>load_img</c> default is nearest.</param>
    /// <exception cref="ArgumentException">The model's input is not an RGB image.</exception>
    public static Tensor PrepareInput(this Model model, RgbImage image, PreprocessingMode? preprocessing = null,
                                      ResizeInterpolation interpolation = ResizeInterpolation.Nearest)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        var input = model.Input.OutputShape;
        if (input.Rank != 4 || input.Channels != 3) throw new ArgumentException($"{model.Name}: expected an RGB image input, the model takes {input.ToKerasString()}.", nameof(model));
        var resized = image.Width == input.Width && image.Height == input.Height ? image : ImageResize.Resize(image, input.Width, input.Height, interpolation);
        return ImagePreprocessing.ToTensor(resized, preprocessing ?? DefaultPreprocessing(model));
    }

    /// <summary>The scores as probabilities (in double, so close classes keep their order): kept when they already are (a softmax head), else a softmax.</summary>
    private static double[] Probabilities(ReadOnlySpan<float> scores)
    {
        double sum = 0;
        bool nonNegative = true;
        foreach (float s in scores) { sum += s; nonNegative &= s >= 0; }
        var result = new double[scores.Length];
        if (nonNegative && Math.Abs(sum - 1) < 1e-3)
        {
            for (int i = 0; i < result.Length; i++) result[i] = scores[i];
            return result;
        }
        double max = double.NegativeInfinity;
        foreach (float s in scores) max = Math.Max(max, s);
        double total = 0;
        for (int i = 0; i < result.Length; i++) total += result[i] = Math.Exp(scores[i] - max);
        for (int i = 0; i < result.Length; i++) result[i] /= total;
        return result;
    }
}
