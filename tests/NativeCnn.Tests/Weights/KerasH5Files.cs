using System.Diagnostics;
using System.Text.Json;

namespace NativeCnn.Tests.Weights;

/// <summary>
/// HDF5 files written once per test run by a script (in <c>tests/reference/h5/</c> unless another folder is given) with
/// Debian's h5py, and the expected contents the script dumped to <c>expected.json</c>.
/// </summary>
public abstract class ScriptGeneratedH5Files : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private const string InstallHint = "apt-get install -y python3-h5py python3-numpy";

    protected ScriptGeneratedH5Files(string folderPrefix, string scriptName, string scriptFolder = "tests/reference/h5")
    {
        Directory = Path.Combine(Path.GetTempPath(), folderPrefix + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        string script = Path.Combine(TestPaths.RepositoryRoot, scriptFolder, scriptName);
        if (!File.Exists(Python)) throw new InvalidOperationException($"{Python} is missing; install Python 3 and h5py: {InstallHint}");
        var (code, output) = Run(Python, "-c \"import h5py, numpy\"");
        if (code != 0) throw new InvalidOperationException($"h5py is not importable by {Python} ({output.Trim()}); install it: {InstallHint}");
        TestProcess.Run(Python, [script, Directory], TestPaths.RepositoryRoot);
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
        GC.SuppressFinalize(this);
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

/// <summary>The Keras-layout files of <c>tests/reference/h5/make-keras-h5.py</c>.</summary>
public sealed class KerasH5Files() : ScriptGeneratedH5Files("nativecnn-h5-", "make-keras-h5.py");

/// <summary>Shares one <see cref="KerasH5Files"/> among the HDF5 test classes.</summary>
[CollectionDefinition(Name)]
public sealed class KerasH5Collection : ICollectionFixture<KerasH5Files>
{
    public const string Name = "Keras HDF5 files";
}

/// <summary>
/// The storage-feature files of <c>tests/reference/h5/make-hdf5-features.py</c> (issue 14): chunked datasets
/// with every supported index and filter, dense links and attributes, fixed-length strings, and hostile variants.
/// </summary>
public sealed class Hdf5FeatureFiles() : ScriptGeneratedH5Files("nativecnn-h5features-", "make-hdf5-features.py");

/// <summary>Shares one <see cref="Hdf5FeatureFiles"/> among the test classes that read them.</summary>
[CollectionDefinition(Name)]
public sealed class Hdf5FeatureCollection : ICollectionFixture<Hdf5FeatureFiles>
{
    public const string Name = "HDF5 feature files";
}
