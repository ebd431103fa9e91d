namespace NativeCnn.Training;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 60,000 training and 10,000 test images of 28×28 grey pixels in 10
/// classes, read from the four IDX files Keras's <c>fashion_mnist.load_data</c> downloads.
/// </summary>
/// <remarks>
/// Images come as NHWC float32 <c>(count, 28, 28, 1)</c> scaled to [0, 1] by <c>pixel / 255f</c> (the usual
/// <c>x.astype("float32") / 255</c>), and labels as sparse targets (one float class index per sample). Debian's
/// <c>dataset-fashion-mnist</c> package installs the files in <see cref="DefaultDirectory"/>.
/// </remarks>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> installs the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The image side.</summary>
    public const int ImageSize = 28;

    /// <summary>The class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Loads the training and test sets from <paramref name="directory"/>.</summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it and the Debian package.</exception>
    /// <exception cref="InvalidDataException">A file is not the IDX array expected (shape, type, label range, counts).</exception>
    public static (ArrayDataset Train, ArrayDataset Test) Load(string directory = DefaultDirectory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return (LoadPart(directory, "train"), LoadPart(directory, "t10k"));
    }

    private static ArrayDataset LoadPart(string directory, string prefix)
    {
        string imagesPath = Find(directory, $"{prefix}-images-idx3-ubyte");
        string labelsPath = Find(directory, $"{prefix}-labels-idx1-ubyte");
        var images = IdxFile.Read(imagesPath);
        var labels = IdxFile.Read(labelsPath);
        if (images.ElementType != IdxElementType.UInt8 || images.Dimensions.Count != 3 || images.Dimensions[1] != ImageSize || images.Dimensions[2] != ImageSize)
            throw new InvalidDataException($"{imagesPath}: expected unsigned bytes of shape (count, {ImageSize}, {ImageSize}), got {images}.");
        if (labels.ElementType != IdxElementType.UInt8 || labels.Dimensions.Count != 1 || labels.Dimensions[0] != images.Dimensions[0])
            throw new InvalidDataException($"{labelsPath}: expected {images.Dimensions[0]} unsigned-byte labels to match {imagesPath}, got {labels}.");

        var pixels = images.RawData;
        var inputs = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++) inputs[i] = pixels[i] / 255f;
        var classes = labels.RawData;
        var targets = new float[classes.Length];
        for (int i = 0; i < classes.Length; i++)
        {
            if (classes[i] >= ClassNames.Count)
                throw new InvalidDataException($"{labelsPath} (byte {8 + i}): label {classes[i]} of sample {i} is not a class in [0, {ClassNames.Count}).");
            targets[i] = classes[i];
        }
        return new ArrayDataset(inputs, [ImageSize, ImageSize, 1], targets, 1);
    }

    private static string Find(string directory, string name)
    {
        foreach (string candidate in new[] { name + ".gz", name })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException($"Fashion-MNIST file {Path.Combine(directory, name)}.gz (or uncompressed) not found; on Debian: apt-get install dataset-fashion-mnist.", Path.Combine(directory, name + ".gz"));
    }
}
