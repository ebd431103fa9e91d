using System.Diagnostics;

namespace NativeCnn.Tests;

/// <summary>
/// Runs one of the repository's command-line tools (samples/*, weights-converter) as its users do, in a child
/// process, so that the tests exercise the real entry point, exit code and output streams, and the test project needs
/// no reference to the tools' projects. <c>dotnet test NativeCnn.sln</c> builds the tools; a tool found unbuilt (a test
/// project run on its own) is built once, with the test binaries' configuration.
/// </summary>
internal sealed class CommandLineTool
{
    /// <summary>The model converter, <c>weights-converter</c>.</summary>
    public static CommandLineTool WeightsConverter { get; } = new("weights-converter", "weights-converter");

    /// <summary>The image classifier, <c>samples/Classify</c>.</summary>
    public static CommandLineTool Classify { get; } = new(Path.Combine("samples", "Classify"), "Classify");

    /// <summary>The model inspector, <c>samples/Inspect</c>.</summary>
    public static CommandLineTool Inspect { get; } = new(Path.Combine("samples", "Inspect"), "Inspect");

    /// <summary>The trainer, <c>samples/Train</c>.</summary>
    public static CommandLineTool Train { get; } = new(Path.Combine("samples", "Train"), "Train");

    /// <summary>The GPU conformance check, <c>samples/GpuCheck</c>.</summary>
    public static CommandLineTool GpuCheck { get; } = new(Path.Combine("samples", "GpuCheck"), "GpuCheck");

    private readonly string _projectDirectory;
    private readonly string _assemblyName;
    private readonly Lazy<string> _assembly;

    private CommandLineTool(string projectDirectory, string assemblyName)
    {
        _projectDirectory = Path.Combine(TestPaths.RepositoryRoot, projectDirectory);
        _assemblyName = assemblyName;
        _assembly = new Lazy<string>(FindOrBuild, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The tool's built assembly, run with <c>dotnet</c>.</summary>
    public string AssemblyPath => _assembly.Value;

    /// <summary>What one run printed and returned.</summary>
    /// <param name="ExitCode">The process's exit code.</param>
    /// <param name="Stdout">Standard output.</param>
    /// <param name="Stderr">Standard error.</param>
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs the tool with <paramref name="arguments"/>; <paramref name="environment"/> adds variables.</summary>
    public Result Run(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestPaths.RepositoryRoot,
        };
        start.ArgumentList.Add(AssemblyPath);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {_assemblyName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{_assemblyName} {string.Join(' ', start.ArgumentList.Skip(1))} did not finish in {limit.TotalMinutes} minutes");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    private string FindOrBuild()
    {
        // The test binaries live in tests/NativeCnn.Tests/bin/<Configuration>/<tfm>/: the tool is looked up there too.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = testOutput.Name, configuration = testOutput.Parent!.Name;
        string assembly = Path.Combine(_projectDirectory, "bin", configuration, framework, _assemblyName + ".dll");
        if (File.Exists(assembly)) return assembly;
        TestProcess.Run("dotnet", ["build", _projectDirectory, "-c", configuration, "-v", "quiet", "-nologo"], TestPaths.RepositoryRoot);
        Assert.True(File.Exists(assembly), $"building {_projectDirectory} did not produce {assembly}");
        return assembly;
    }
}
