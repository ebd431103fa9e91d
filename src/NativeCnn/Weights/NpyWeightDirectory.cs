using NativeCnn.Models;

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
    /// Loads every weight of <paramref name="model"/> from <paramref name="directory"/> by name (see
    /// <see cref="WeightAssignment.ByName"/>): every weight must have a file of its shape, and every <c>.npy</c> file
    /// must belong to a weight, so nothing is silently left at its initial value.
    /// </summary>
    /// <remarks>
    /// The rule for TensorFlow.js weight shards holds here too: a listed file that is a symbolic link leading out of
    /// <paramref name="directory"/> (as an unpacked archive may hold) is refused without being read.
    /// </remarks>
    /// <exception cref="InvalidDataException">A file is missing, unused, unreadable, of the wrong shape or a link out of the folder; the message names it.</exception>
    public static void Load(Model model, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"No weight directory '{directory}'.");
        var folder = new ModelFolder(directory, directory);
        var files = Directory.EnumerateFiles(directory, "*.npy").Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .Select(name => (Name: name!, Path: folder.ResolveFile(name!, $"weight file '{name}'"))).ToList();
        WeightAssignment.ByName(model, files.Select(file => Read(file.Name, file.Path)));
    }

    private static WeightTensor Read(string fileName, string path)
    {
        using var tensor = NpyFile.Read(path);
        string name = Path.GetFileNameWithoutExtension(fileName).Replace("__", "/", StringComparison.Ordinal);
        var shape = new int[tensor.Shape.Rank];
        for (int d = 0; d < shape.Length; d++) shape[d] = tensor.Shape[d];
        return new WeightTensor(name, shape, tensor.ToArray());
    }
}
