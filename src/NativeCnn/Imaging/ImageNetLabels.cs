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
