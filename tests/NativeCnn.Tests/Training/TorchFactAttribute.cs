using System.Diagnostics;

namespace NativeCnn.Tests.Training;

/// <summary>
/// A fact that needs Debian's PyTorch (<c>/usr/bin/python3</c> with <c>torch</c>, installed by <c>tests/run.sh</c>):
/// skipped with the reason where it is missing, except under CI (<c>CI=true</c>), where it runs and fails.
/// </summary>
public sealed class TorchFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> s_missing = new(Missing);

    /// <summary>Skips the test when PyTorch is missing outside CI.</summary>
    public TorchFactAttribute()
    {
        if (!References.RequiredByCi && s_missing.Value is { } reason) Skip = reason;
    }

    private static string? Missing()
    {
        const string hint = "apt-get install -y python3-torch, or run bash tests/run.sh as root";
        if (!File.Exists(TorchReference.Python)) return $"{TorchReference.Python} is not installed ({hint})";
        var start = new ProcessStartInfo(TorchReference.Python, ["-c", "import torch"]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start);
        if (process is null) return $"{TorchReference.Python} could not be started";
        process.StandardOutput.ReadToEndAsync();
        process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            return "importing torch took over a minute";
        }
        return process.ExitCode == 0 ? null : $"{TorchReference.Python} cannot import torch ({hint})";
    }
}

/// <summary>Runs a PyTorch script on a JSON document and returns what it prints.</summary>
internal static class TorchReference
{
    public const string Python = "/usr/bin/python3";

    public static string Run(string script, string json)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"nativecnn-torch-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "input.json"), json);
            File.WriteAllText(Path.Combine(folder, "reference.py"), script);
            return TestProcess.Run(Python, ["reference.py", "input.json"], folder, TimeSpan.FromMinutes(3));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
