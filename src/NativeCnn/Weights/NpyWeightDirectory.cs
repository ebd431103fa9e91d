using NativeCnn.Models;
using NativeCnn.Tensors;

namespace NativeCnn.Weights;

/// <summary>
/// Model weights as a directory of NumPy files, one per weight, named by the Keras weight path with '/' replaced by
/// "__" (<c>block1a_dwconv__depthwise_kernel.npy</c>). This is the exchange format with the TensorFlow.js reference
/// scripts in <c>tests/reference/tfjs</c>, and a way to inspect weights with NumPy.
/// </summary>
public static class NpyWeightDirectory
{
    /// <summary>The file name for a Keras weight path.</summary>
    public static string FileNameFor(string weightPath) => weightPath.Replace("/", "__", StringComparison.Ordinal) + ".npy";

    /// <summary>Writes every weight of <paramref name="model"/> into <paramref name="directory"/> (created if missing).</summary>
    public static void Save(Model model, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        foreach (var weight in model.Weights)
            NpyFile.Write(Path.Combine(directory, FileNameFor(weight.FullName)), weight.Value);
    }

    /// <summary>
    /// Loads every weight of <paramref name="model"/> from <paramref name="directory"/>, checking shapes. Every weight must
    /// have a file, and every <c>.npy</c> file must belong to a weight, so nothing is silently left at its initial value.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is missing, unused, or of the wrong shape; the message names it.</exception>
    public static void Load(Model model, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        var unused = new HashSet<string>(Directory.EnumerateFiles(directory, "*.npy").Select(Path.GetFileName)!, StringComparer.Ordinal);
        foreach (var weight in model.Weights)
        {
            string name = FileNameFor(weight.FullName);
            string path = Path.Combine(directory, name);
            if (!unused.Remove(name)) throw new InvalidDataException($"{weight.FullName}: no file '{name}' in {directory}.");
            using var loaded = NpyFile.Read(path);
            if (loaded.Shape.ElementCount != weight.Shape.ElementCount || (loaded.Shape != weight.Shape && loaded.Shape.Rank == weight.Shape.Rank))
                throw new InvalidDataException($"{weight.FullName}: expected shape {weight.Shape}, file '{path}' has {loaded.Shape}.");
            loaded.Span.CopyTo(weight.Value.Span);
        }
        if (unused.Count > 0)
            throw new InvalidDataException($"{model.Name}: {unused.Count} file(s) in {directory} match no weight, e.g. '{unused.First()}'.");
        model.InvalidatePlans();
    }
}
