using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using NativeCnn.Backends.Cpu;
using NativeCnn.Models;
using NativeCnn.Tensors;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Models;

/// <summary>
/// Runs the TensorFlow.js mirror of the Keras applications in <c>tests/reference/tfjs</c> (an independent implementation:
/// tfjs layers with its own kernels) through Node. <c>.ci/run</c> installs its packages; a machine without them fails the
/// tests that need it with the command that fixes it, rather than skipping them silently.
/// </summary>
internal static class TensorFlowJsReference
{
    /// <summary>The folder holding the reference scripts.</summary>
    public static string ScriptDirectory { get; } = Path.Combine(TestPaths.RepositoryRoot, "tests", "reference", "tfjs");

    /// <summary>Runs <c>node SCRIPT ARGS</c> in the script folder and returns its output (timings, notes).</summary>
    public static string Run(string script, params string[] arguments)
    {
        if (!Directory.Exists(Path.Combine(ScriptDirectory, "node_modules", "@tensorflow", "tfjs")))
            Assert.Fail($"TensorFlow.js is not installed: run 'npm ci' in {ScriptDirectory} (.ci/run does).");
        return TestProcess.Run("node", [script, .. arguments], ScriptDirectory);
    }

    /// <summary>
    /// Runs <paramref name="model"/> (fused plan) on the input of an <c>export-config.mjs</c> folder and checks both the
    /// classifier's input features (informative even when random weights saturate the softmax) and the output against
    /// what TensorFlow.js computed, within 1e-4 of each tensor's magnitude.
    /// </summary>
    public static void AssertMatchesExport(Model model, string exportDirectory, ITestOutputHelper output)
    {
        using var x = NpyFile.Read(Path.Combine(exportDirectory, "x.npy"));
        using var expected = NpyFile.Read(Path.Combine(exportDirectory, "y.npy"));
        using var expectedFeatures = NpyFile.Read(Path.Combine(exportDirectory, "features.npy"));
        string featureLayer = File.ReadAllText(Path.Combine(exportDirectory, "features.txt")).Trim();
        using var backend = new CpuBackend();
        using var plan = model.CreatePlan(backend, x.Shape.Batch);
        plan.Input.CopyFrom(x.Span);
        plan.Run();
        using var features = new Tensor(plan.GetActivation(featureLayer).Shape);
        plan.GetActivation(featureLayer).CopyTo(features.Span);
        using var actual = new Tensor(plan.Output.Shape);
        plan.Output.CopyTo(actual.Span);
        // MaxMagnitude returns the element itself, sign included.
        float scale = Math.Abs(TensorPrimitives.MaxMagnitude(expectedFeatures.Span));
        Assert.True(scale > 1e-3, $"{featureLayer} is all zeros: the comparison would prove nothing");
        output.WriteLine($"{model.Name}: {featureLayer} max |diff| {MaxDifference(expectedFeatures, features):E2} (max |value| {scale:G4}), "
                         + $"output max |diff| {MaxDifference(expected, actual):E2}");
        Precision.AssertClose(expectedFeatures.Span, features.Span, 1e-4, scale, $"{model.Name} {featureLayer}");
        Precision.AssertClose(expected.Span, actual.Span, 1e-4, 1.0, $"{model.Name} output");
    }

    /// <summary>The largest absolute difference between two tensors of the same length.</summary>
    public static double MaxDifference(Tensor expected, Tensor actual)
    {
        double worst = 0;
        for (int i = 0; i < actual.Length; i++) worst = Math.Max(worst, Math.Abs(actual.Span[i] - (double)expected.Span[i]));
        return worst;
    }
}
