using System.Diagnostics;

namespace NativeCnn.Tests;

/// <summary>An independent reference that some tests compare against, installed by <c>tests/run.sh</c>.</summary>
public enum ExternalReference
{
    /// <summary>TensorFlow.js from npm (<c>tests/reference/tfjs/node_modules</c>) and Node.js.</summary>
    TensorFlowJs,
    /// <summary>Debian's h5py and NumPy, which write the Keras HDF5 test files.</summary>
    H5py,
    /// <summary>Debian's PIL and NumPy, which encode and decode the reference images.</summary>
    Pil,
    /// <summary>PoCL (OpenCL on the CPU), which runs the ILGPU backend's OpenCL kernels without a GPU.</summary>
    Pocl,
    /// <summary>Debian's PyTorch and NumPy, whose float64 autograd checks the backward kernels.</summary>
    PyTorch,
}

/// <summary>
/// Which references this machine has. A test that needs a missing one is skipped with the reason and the command that
/// installs it, except under CI (<c>CI=true</c>), where every reference must be there and such a test runs and fails.
/// </summary>
internal static class References
{
    private const string Python = "/usr/bin/python3";
    private static readonly Dictionary<ExternalReference, Lazy<string?>> s_missing = new()
    {
        [ExternalReference.TensorFlowJs] = new(() => MissingTensorFlowJs()),
        [ExternalReference.H5py] = new(() => MissingPython("h5py, numpy", "python3-h5py python3-numpy")),
        [ExternalReference.Pil] = new(() => MissingPython("PIL, numpy", "python3-pil python3-numpy")),
        [ExternalReference.Pocl] = new(() => MissingPocl()),
        [ExternalReference.PyTorch] = new(() => MissingPython("torch, numpy", "python3-torch python3-numpy")),
    };

    /// <summary>True under CI, where a missing reference fails its tests instead of skipping them.</summary>
    public static bool RequiredByCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Why tests needing <paramref name="references"/> are skipped here, or null when they run.</summary>
    public static string? SkipReason(params ExternalReference[] references) =>
        RequiredByCi ? null : references.Select(r => s_missing[r].Value).FirstOrDefault(reason => reason is not null);

    private static string? MissingTensorFlowJs()
    {
        string folder = Path.Combine(TestPaths.RepositoryRoot, "tests", "reference", "tfjs");
        if (!OnPath("node")) return "Node.js is not installed (apt-get install nodejs npm), so the TensorFlow.js reference cannot run";
        if (!File.Exists(Path.Combine(folder, "node_modules", "@tensorflow", "tfjs", "package.json")))
            return "TensorFlow.js is not installed: run bash tests/run.sh, or npm ci in tests/reference/tfjs";
        return null;
    }

    private static string? MissingPython(string modules, string packages)
    {
        string hint = $"apt-get install -y {packages}, or run bash tests/run.sh as root";
        if (!File.Exists(Python)) return $"{Python} is not installed ({hint})";
        return Succeeds(Python, "-c", $"import {modules}") ? null : $"{Python} cannot import {modules} ({hint})";
    }

    private static string? MissingPocl() => File.Exists("/etc/OpenCL/vendors/pocl.icd") ? null
        : "PoCL is not installed (apt-get install -y pocl-opencl-icd ocl-icd-libopencl1, or run bash tests/run.sh as root)";

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)));

    private static bool Succeeds(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start);
        if (process is null) return false;
        process.StandardOutput.ReadToEndAsync();
        process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            return false;
        }
        return process.ExitCode == 0;
    }
}

/// <summary>A fact that needs references: skipped with the reason where it is missing, except under CI.</summary>
public sealed class ReferenceFactAttribute : FactAttribute
{
    /// <summary>Skips the test when one of <paramref name="references"/> is missing outside CI.</summary>
    public ReferenceFactAttribute(params ExternalReference[] references)
    {
        if (References.SkipReason(references) is { } reason) Skip = reason;
    }
}

/// <summary>A theory that needs references: skipped with the reason where it is missing, except under CI.</summary>
public sealed class ReferenceTheoryAttribute : TheoryAttribute
{
    /// <summary>Skips the test when one of <paramref name="references"/> is missing outside CI.</summary>
    public ReferenceTheoryAttribute(params ExternalReference[] references)
    {
        if (References.SkipReason(references) is { } reason) Skip = reason;
    }
}
