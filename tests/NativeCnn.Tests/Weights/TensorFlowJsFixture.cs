using NativeCnn.Tests.Models;

namespace NativeCnn.Tests.Weights;

/// <summary>
/// Runs <c>tests/reference/tfjs/save-tfjs-model.mjs</c> once: a small Keras-style model saved by TensorFlow.js itself
/// (float32, several shards) and in uint8/uint16/float16-quantized variants, each with the values tfjs's own decoder
/// produces as .npy files.
/// </summary>
public sealed class TensorFlowJsFixture : IDisposable
{
    /// <summary>Creates the models in a temporary folder.</summary>
    public TensorFlowJsFixture()
    {
        Root = Directory.CreateTempSubdirectory("nativecnn-tfjs-").FullName;
        TensorFlowJsReference.Run("save-tfjs-model.mjs", "--out", Root, "--seed", "7");
    }

    /// <summary>The folder holding one sub-folder per variant.</summary>
    public string Root { get; }

    /// <summary>Removes the temporary folder.</summary>
    public void Dispose() => Directory.Delete(Root, recursive: true);
}
