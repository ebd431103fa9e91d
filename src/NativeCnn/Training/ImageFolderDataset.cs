using NativeCnn.Imaging;

namespace NativeCnn.Training;

/// <summary>
/// Images in one subfolder per class, indexed as Keras's <c>image_dataset_from_directory(directory, labels="inferred",
/// label_mode="int", color_mode="rgb")</c> indexes them, decoded with <see cref="ImageDecoder"/> and resized as Keras
/// resizes them.
/// </summary>
/// <remarks>
/// <para>
/// Class names are the subfolders in ordinal order (Python's <c>sorted</c>), labelled 0, 1, …. Each class folder is
/// walked recursively (symbolic links to folders are not followed, as <c>follow_links=False</c>), folders in ordinal
/// order of their paths and files in ordinal order of their names, keeping files ending (case-insensitively) in
/// <c>.bmp</c>, <c>.gif</c>, <c>.jpeg</c>, <c>.jpg</c> or <c>.png</c>. With <c>shuffle</c> the list is then shuffled
/// once with NumPy's <c>RandomState(seed).shuffle</c>, reimplemented bit for bit, so the file order (and so the
/// validation split) is Keras's for the same seed. The per-epoch <c>tf.data</c> shuffle Keras adds is not reproduced:
/// batch with a <see cref="BatchIterator"/> over <see cref="Load"/>.
/// </para>
/// <para>
/// Images are RGB float32 in [0, 255] (Keras does not rescale), <c>(height, width, 3)</c>. The decoder handles PNG,
/// JPEG and PPM/PGM; a GIF or BMP file in the folder raises <see cref="NotSupportedException"/> when it is read.
/// </para>
/// </remarks>
public sealed class ImageFolderDataset
{
    private static readonly string[] s_formats = [".bmp", ".gif", ".jpeg", ".jpg", ".png"];
    private readonly string[] _paths;
    private readonly int[] _labels;
    private readonly string[] _classNames;

    private ImageFolderDataset(string directory, string[] classNames, string[] paths, int[] labels, int height, int width, ImageFolderInterpolation interpolation)
    {
        Directory = directory;
        _classNames = classNames;
        _paths = paths;
        _labels = labels;
        Height = height;
        Width = width;
        Interpolation = interpolation;
    }

    /// <summary>Indexes <paramref name="directory"/>; arguments and defaults as Keras's (image size 256×256, bilinear, shuffled).</summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="ArgumentException">The directory has no class subfolder or no image, or the size is not positive.</exception>
    public static ImageFolderDataset FromDirectory(string directory, int height = 256, int width = 256,
        ImageFolderInterpolation interpolation = ImageFolderInterpolation.Bilinear, bool shuffle = true, uint seed = 0)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (height < 1 || width < 1 || height > RgbImage.MaxSide || width > RgbImage.MaxSide)
            throw new ArgumentOutOfRangeException(nameof(height), $"image_size must be positive and at most {RgbImage.MaxSide}, got ({height}, {width}).");
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"Directory {directory} does not exist.");
        var classNames = System.IO.Directory.GetDirectories(directory).Select(Path.GetFileName).OfType<string>()
            .Order(StringComparer.Ordinal).ToArray();
        if (classNames.Length == 0) throw new ArgumentException($"{directory}: expected one subfolder per class, found none.", nameof(directory));
        var paths = new List<string>();
        var labels = new List<int>();
        for (int label = 0; label < classNames.Length; label++)
        {
            foreach (string path in ClassFiles(Path.Combine(directory, classNames[label])))
            {
                paths.Add(path);
                labels.Add(label);
            }
        }
        if (paths.Count == 0)
            throw new ArgumentException($"{directory}: no {string.Join(", ", s_formats)} files in the class folders {string.Join(", ", classNames)}.", nameof(directory));
        var pathArray = paths.ToArray();
        var labelArray = labels.ToArray();
        if (shuffle)
        {
            // dataset_utils.index_directory: RandomState(seed).shuffle(file_paths), then a fresh RandomState(seed).shuffle(labels).
            new NumPyRandomState(seed).Shuffle(pathArray.AsSpan());
            new NumPyRandomState(seed).Shuffle(labelArray.AsSpan());
        }
        return new ImageFolderDataset(directory, classNames, pathArray, labelArray, height, width, interpolation);
    }

    // dataset_utils.iter_valid_files: sorted(os.walk(directory), key=root), then sorted(files) in each root.
    private static IEnumerable<string> ClassFiles(string classDirectory)
    {
        var roots = new List<string>();
        var pending = new Stack<string>();
        pending.Push(classDirectory);
        while (pending.Count > 0)
        {
            string root = pending.Pop();
            roots.Add(root);
            foreach (var sub in new DirectoryInfo(root).EnumerateDirectories())
            {
                if (sub.LinkTarget is null) pending.Push(sub.FullName);
            }
        }
        roots.Sort(StringComparer.Ordinal);
        foreach (string root in roots)
        {
            var files = System.IO.Directory.GetFiles(root).Where(f => s_formats.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                .Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal);
            foreach (string file in files) yield return Path.Combine(root, file);
        }
    }

    /// <summary>The folder indexed.</summary>
    public string Directory { get; }
    /// <summary>The class names, by label.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;
    /// <summary>The image files, in dataset order.</summary>
    public IReadOnlyList<string> FilePaths => _paths;
    /// <summary>The label of each file.</summary>
    public IReadOnlyList<int> Labels => _labels;
    /// <summary>The number of images.</summary>
    public int Count => _paths.Length;
    /// <summary>The output height.</summary>
    public int Height { get; }
    /// <summary>The output width.</summary>
    public int Width { get; }
    /// <summary>The resize filter.</summary>
    public ImageFolderInterpolation Interpolation { get; }

    /// <summary>
    /// Keras's <c>validation_split</c> for folders (<c>get_training_or_validation_split</c>): the last
    /// <c>int(fraction · count)</c> files (after the index shuffle) validate and the others train.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in (0, 1) or leaves a side empty.</exception>
    public (ImageFolderDataset Train, ImageFolderDataset Validation) Split(double validationFraction)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), $"validation_split must be in (0, 1), got {validationFraction}.");
        int validation = (int)(validationFraction * Count), train = Count - validation;
        if (validation == 0 || train == 0)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), $"validation_split={validationFraction} of {Count} files leaves {train} for training and {validation} for validation.");
        return (Part(0, train), Part(train, validation));
    }

    private ImageFolderDataset Part(int start, int count) =>
        new(Directory, _classNames, _paths[start..(start + count)], _labels[start..(start + count)], Height, Width, Interpolation);

    /// <summary>Decodes and resizes image <paramref name="index"/> into <paramref name="destination"/>, <c>(height, width, 3)</c> float32 in [0, 255].</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not <c>height · width · 3</c> long.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid image (the message names it).</exception>
    /// <exception cref="NotSupportedException">The file's format or features are not supported (GIF, BMP, …).</exception>
    public void ReadImage(int index, Span<float> destination)
    {
        if (destination.Length != Height * Width * 3)
            throw new ArgumentException($"Expected a destination of {Height * Width * 3} values ({Height}, {Width}, 3), got {destination.Length}.", nameof(destination));
        var image = ImageDecoder.Decode(_paths[index]);
        if (Interpolation == ImageFolderInterpolation.Nearest) ResizeNearest(image, Height, Width, destination);
        else ResizeBilinear(image, Height, Width, destination);
    }

    /// <summary>Decodes every image into memory as an <see cref="ArrayDataset"/> of <c>(height, width, 3)</c> images with sparse labels.</summary>
    /// <exception cref="InvalidOperationException">The images would need more than <see cref="Array.MaxLength"/> floats.</exception>
    public ArrayDataset Load()
    {
        long length = (long)Count * Height * Width * 3;
        if (length > Array.MaxLength)
            throw new InvalidOperationException($"{Directory}: {Count} images of ({Height}, {Width}, 3) need {length} floats, more than one array holds.");
        var inputs = new float[length];
        int size = Height * Width * 3;
        for (int i = 0; i < Count; i++) ReadImage(i, inputs.AsSpan(i * size, size));
        return new ArrayDataset(inputs, [Height, Width, 3], _labels);
    }

    /// <summary>
    /// TensorFlow's <c>resize_bilinear</c> with <c>half_pixel_centers=True</c> (what <c>tf.image.resize</c> runs):
    /// source coordinate <c>(i + 0.5) · in / out - 0.5</c>, lower index clamped at 0 and upper at the edge, and the two
    /// lerps in TensorFlow's order, all in float32.
    /// </summary>
    internal static void ResizeBilinear(RgbImage image, int height, int width, Span<float> destination)
    {
        float yScale = (float)image.Height / height, xScale = (float)image.Width / width;
        var pixels = image.Pixels;
        int stride = image.Width * 3;
        for (int y = 0; y < height; y++)
        {
            (int top, int bottom, float yLerp) = Weights(y, yScale, image.Height);
            for (int x = 0; x < width; x++)
            {
                (int left, int right, float xLerp) = Weights(x, xScale, image.Width);
                for (int c = 0; c < 3; c++)
                {
                    float topLeft = pixels[top * stride + left * 3 + c], topRight = pixels[top * stride + right * 3 + c];
                    float bottomLeft = pixels[bottom * stride + left * 3 + c], bottomRight = pixels[bottom * stride + right * 3 + c];
                    float upper = topLeft + (topRight - topLeft) * xLerp;
                    float lower = bottomLeft + (bottomRight - bottomLeft) * xLerp;
                    destination[(y * width + x) * 3 + c] = upper + (lower - upper) * yLerp;
                }
            }
        }

        static (int Lower, int Upper, float Lerp) Weights(int i, float scale, int size)
        {
            float source = (i + 0.5f) * scale - 0.5f;
            float floor = MathF.Floor(source);
            return (Math.Max((int)floor, 0), Math.Min((int)MathF.Ceiling(source), size - 1), source - floor);
        }
    }

    /// <summary>TensorFlow's <c>resize_nearest_neighbor</c> with half-pixel centers: source index <c>min(floor((i + 0.5) · in / out), in - 1)</c>.</summary>
    internal static void ResizeNearest(RgbImage image, int height, int width, Span<float> destination)
    {
        float yScale = (float)image.Height / height, xScale = (float)image.Width / width;
        var pixels = image.Pixels;
        for (int y = 0; y < height; y++)
        {
            int sy = Math.Min((int)MathF.Floor((y + 0.5f) * yScale), image.Height - 1);
            for (int x = 0; x < width; x++)
            {
                int sx = Math.Min((int)MathF.Floor((x + 0.5f) * xScale), image.Width - 1);
                for (int c = 0; c < 3; c++) destination[(y * width + x) * 3 + c] = pixels[(sy * image.Width + sx) * 3 + c];
            }
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Count} images in {_classNames.Length} classes from {Directory}";
}
