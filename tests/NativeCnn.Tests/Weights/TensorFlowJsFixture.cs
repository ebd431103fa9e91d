using System.Diagnostics;

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
        string scripts = Path.Combine(RepositoryRoot(), "tests", "reference", "tfjs");
        if (!Directory.Exists(Path.Combine(scripts, "node_modules", "@tensorflow", "tfjs")))
            throw new InvalidOperationException($"TensorFlow.js is not installed: run 'npm ci' in {scripts}.");
        var start = new ProcessStartInfo("node", ["save-tfjs-model.mjs", "--out", Root, "--seed", "7"])
        {
            WorkingDirectory = scripts,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("save-tfjs-model.mjs did not finish in 2 minutes.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"save-tfjs-model.mjs exited with {process.ExitCode}:\n{stdout.Result}{stderr.Result}");
    }

    /// <summary>The folder holding one sub-folder per variant.</summary>
    public string Root { get; }

    /// <summary>Removes the temporary folder.</summary>
    public void Dispose() => Directory.Delete(Root, recursive: true);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NativeCnn.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No NativeCnn.sln above {AppContext.BaseDirectory}.");
    }
}
