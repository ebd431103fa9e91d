using NativeCnn.Models;
using NativeCnn.Weights;
using NativeCnn.Weights.Keras;

namespace NativeCnn.Samples;

/// <summary>What the samples accept as a model or as weights, recognized from the path.</summary>
internal static class ModelSources
{
    /// <summary>A NativeCnn <c>.safetensors</c> model file, or a Keras / TensorFlow.js file that carries its config.</summary>
    public static Model LoadModel(string file, int? resolution) =>
        IsModelFile(file) ? ModelFile.Load(file, resolution, resolution) : KerasFile.Read(file).BuildModel(resolution, resolution);

    /// <summary>Weights from a directory of <c>.npy</c> files, a <c>.safetensors</c> file, or a Keras / TensorFlow.js file.</summary>
    public static void LoadWeights(Model model, string weights)
    {
        if (Directory.Exists(weights)) NpyWeightDirectory.Load(model, weights);
        else if (IsModelFile(weights)) model.LoadWeights(weights);
        else KerasFile.Read(weights).LoadInto(model);
    }

    /// <summary>
    /// Whether <paramref name="path"/> is a NativeCnn safetensors file: named <c>.safetensors</c>, or, whatever its name,
    /// starting as safetensors does (an 8-byte little-endian header length, then the JSON header's <c>{</c>), so that a
    /// renamed file is read by its format rather than misread as a Keras file.
    /// </summary>
    public static bool IsModelFile(string path)
    {
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return true;
        if (!File.Exists(path)) return false;
        Span<byte> head = stackalloc byte[9];
        using (var stream = File.OpenRead(path))
            if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length) return false;
        ulong headerLength = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(head);
        return headerLength is > 1 and < 100_000_000 && head[8] == (byte)'{';
    }
}
