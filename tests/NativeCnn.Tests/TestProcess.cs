using System.Diagnostics;

namespace NativeCnn.Tests;

/// <summary>Runs a child process for a test and fails the test, with its output, when it fails or hangs.</summary>
internal static class TestProcess
{
    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/> in <paramref name="directory"/>; returns stdout + stderr.</summary>
    public static string Run(string file, IEnumerable<string> arguments, string directory, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        string command = $"{file} {string.Join(' ', start.ArgumentList)}";
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start '{command}'");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"'{command}' did not finish in {limit.TotalMinutes} minutes");
        }
        string text = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode == 0, $"'{command}' exited with {process.ExitCode}:\n{text}");
        return text;
    }
}
