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
}
