using System.Diagnostics;
using System.Text.Json;

namespace NativeCnn.Tests.Weights;

/// <summary>
/// The HDF5 files written once per test run by <c>tests/reference/h5/make-keras-h5.py</c> with Debian's h5py,
/// and the expected contents the script dumped to <c>expected.json</c>.
/// </summary>
public sealed class KerasH5Files : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private const string InstallHint = "apt-get install -y python3-h5py python3-numpy";

    public KerasH5Files()
    {
        Directory = Path.Combine(Path.GetTempPath(), "nativecnn-h5-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        string script = FindScript();
        if (!File.Exists(Python)) throw new InvalidOperationException($"{Python} is missing; install Python 3 and h5py: {InstallHint}");
        var (code, output) = Run(Python, "-c \"import h5py, numpy\"");
        if (code != 0) throw new InvalidOperationException($"h5py is not importable by {Python} ({output.Trim()}); install it: {InstallHint}");
        (code, output) = Run(Python, $"\"{script}\" \"{Directory}\"");
        if (code != 0) throw new InvalidOperationException($"{script} failed ({code}): {output}");
        Expected = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory, "expected.json")));
    }

    /// <summary>Where the files are.</summary>
    public string Directory { get; }

    /// <summary>The parsed <c>expected.json</c>: one property per file.</summary>
    public JsonDocument Expected { get; }

    /// <summary>The full path of a generated file.</summary>
    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>The expected-contents entry for a file.</summary>
    public JsonElement ExpectedFor(string name) => Expected.RootElement.GetProperty(name);

    public void Dispose()
    {
        Expected.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }

    private static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "reference", "h5", "make-keras-h5.py");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("tests/reference/h5/make-keras-h5.py not found above " + AppContext.BaseDirectory);
    }

    private static (int Code, string Output) Run(string file, string arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}

/// <summary>Shares one <see cref="KerasH5Files"/> among the HDF5 test classes.</summary>
[CollectionDefinition(Name)]
public sealed class KerasH5Collection : ICollectionFixture<KerasH5Files>
{
    public const string Name = "Keras HDF5 files";
}
