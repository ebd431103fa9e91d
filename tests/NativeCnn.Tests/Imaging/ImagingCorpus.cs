using System.Diagnostics;

namespace NativeCnn.Tests.Imaging;

/// <summary>
/// The reference corpus: tests/reference/images/make-images.py run once with Debian's PIL into a temporary folder,
/// giving images of every supported kind and PIL's decodes and resizes of them (see the script for the manifest).
/// </summary>
public sealed class ImagingCorpus : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private const string InstallHint = "apt-get install -y python3-pil python3-numpy";

    public ImagingCorpus()
    {
        Directory = Path.Combine(Path.GetTempPath(), "nativecnn-imaging-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        string script = Path.Combine(FindRepositoryRoot(), "tests", "reference", "images", "make-images.py");
        if (!File.Exists(Python))
            throw new InvalidOperationException($"{Python} is missing; the imaging tests need Debian's Python with PIL: {InstallHint}");
        var start = new ProcessStartInfo(Python, [script, Directory]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        string stderr = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"make-images.py failed (exit {process.ExitCode}); if PIL or numpy is missing: {InstallHint}\n{stderr}");
        Cases = File.ReadAllLines(Path.Combine(Directory, "manifest.txt"))
            .Where(line => line.Length > 0)
            .Select(line => line.Split(' '))
            .ToArray();
    }

    /// <summary>The folder holding the corpus.</summary>
    public string Directory { get; }

    /// <summary>The manifest lines, split on spaces.</summary>
    public string[][] Cases { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "tests", "reference", "images", "make-images.py"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find tests/reference/images/make-images.py above " + AppContext.BaseDirectory);
    }
}

/// <summary>Shares one <see cref="ImagingCorpus"/> (one run of the script) among the test classes that read it.</summary>
[CollectionDefinition(Name)]
public sealed class ImagingCorpusCollection : ICollectionFixture<ImagingCorpus>
{
    public const string Name = "Imaging corpus";
}
