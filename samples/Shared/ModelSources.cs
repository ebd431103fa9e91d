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

    /// <summary>Whether <paramref name="path"/> names a NativeCnn safetensors file.</summary>
    public static bool IsModelFile(string path) => path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
}
