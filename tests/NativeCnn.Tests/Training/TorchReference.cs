namespace NativeCnn.Tests.Training;

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
