using NativeCnn.Models;
using NativeCnn.Weights;

namespace NativeCnn.Tests.Weights.Pretrained;

/// <summary>Stand-ins for Keras's ImageNet files: a zoo model's weights, changed from the seeded ones, saved to a file.</summary>
internal static class PretrainedTestWeights
{
    /// <summary>Changes every weight of <paramref name="model"/> by a seeded factor in [0.5, 1.5) plus up to 0.05 (positive variances stay positive).</summary>
    public static void Perturb(Model model, int seed = 20261202)
    {
        var random = new Random(seed);
        foreach (var weight in model.Weights)
        {
            var values = weight.Value.Span;
            // Zeros (biases, betas) become small positive values, so that every weight changes.
            for (int i = 0; i < values.Length; i++) values[i] = values[i] * (0.5f + (float)random.NextDouble()) + 0.05f * (float)random.NextDouble();
        }
    }

    /// <summary>Saves <paramref name="model"/>'s weights as a NativeCnn safetensors file (loaded by content, whatever its name).</summary>
    public static byte[] SafeTensorsBytes(Model model, string work)
    {
        string path = Path.Combine(work, Guid.NewGuid().ToString("N") + ".safetensors");
        ModelFile.Save(model, path);
        byte[] bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    /// <summary>Asserts that two models hold the same weights.</summary>
    public static void AssertSameWeights(Model expected, Model actual)
    {
        var a = expected.Weights.ToArray();
        var b = actual.Weights.ToArray();
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i].FullName, b[i].FullName);
            Assert.True(a[i].Value.Span.SequenceEqual(b[i].Value.Span), $"{a[i].FullName} differs");
        }
    }
}
