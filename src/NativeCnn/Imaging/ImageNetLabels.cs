using System.Reflection;

namespace NativeCnn.Imaging;

/// <summary>The 1000 ImageNet (ILSVRC-2012) class names, in the index order of Keras's ImageNet classifiers' outputs.</summary>
public static class ImageNetLabels
{
    // imagenet-labels.txt was extracted from IMAGENET_CLASSES in dist/imagenet_classes.js of the npm package
    // @tensorflow-models/mobilenet 2.1.1 (Copyright 2019 Google LLC, Apache License 2.0), one name per line.
    private const string ResourceName = "NativeCnn.Imaging.imagenet-labels.txt";

    private static readonly Lazy<IReadOnlyList<string>> _names = new(Load);

    /// <summary>The class names; entry <c>i</c> names output <c>i</c> (e.g. 0 is "tench, Tinca tinca").</summary>
    public static IReadOnlyList<string> Names => _names.Value;

    /// <summary>
    /// Keras's <c>decode_predictions</c> on any score tensor: for each image (row) of <paramref name="scores"/>, the
    /// <paramref name="top"/> highest-scoring classes, highest first (equal scores: the lower class index first), each
    /// with its label and its score as given (a probability after a softmax head, a logit otherwise).
    /// </summary>
    /// <param name="scores">A <c>(N, classes)</c> tensor.</param>
    /// <param name="top">How many classes per image, 1 to the class count.</param>
    /// <param name="labels">The class names; ImageNet's (<see cref="Names"/>) when null, which needs 1000 classes.</param>
    /// <exception cref="ArgumentException">The tensor is not <c>(N, classes)</c>, or the labels do not match the classes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="top"/> is outside 1 to the class count.</exception>
    public static IReadOnlyList<IReadOnlyList<ClassPrediction>> DecodePredictions(Tensor scores, int top = 5, IReadOnlyList<string>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Shape.Rank != 2) throw new ArgumentException($"decode_predictions takes (N, classes) scores, got {scores.Shape}.", nameof(scores));
        int classes = scores.Shape[1];
        labels ??= classes == 1000 ? Names : throw new ArgumentException($"ImageNet's labels name 1000 classes, the scores have {classes}; pass labels.", nameof(labels));
        if (labels.Count != classes) throw new ArgumentException($"{labels.Count} labels for {classes} classes.", nameof(labels));
        if (top < 1 || top > classes) throw new ArgumentOutOfRangeException(nameof(top), top, $"top must be 1 to {classes}, got {top}.");
        var result = new IReadOnlyList<ClassPrediction>[scores.Shape.Batch];
        for (int n = 0; n < result.Length; n++)
        {
            var row = scores.Span.Slice(n * classes, classes).ToArray();
            result[n] = [.. Enumerable.Range(0, classes).OrderByDescending(i => row[i]).ThenBy(i => i).Take(top)
                                      .Select(i => new ClassPrediction(i, labels[i], row[i]))];
        }
        return result;
    }

    private static IReadOnlyList<string> Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        var names = new List<string>(1000);
        while (reader.ReadLine() is { } line) names.Add(line);
        if (names.Count != 1000) throw new InvalidOperationException($"{ResourceName} has {names.Count} lines, not 1000.");
        return names.AsReadOnly();
    }
}
