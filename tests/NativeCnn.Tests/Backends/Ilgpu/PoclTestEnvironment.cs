using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>
/// Settings shared by the PoCL tests. PoCL needs a writable kernel cache or it reports no device at all; .NET does not
/// pass <see cref="Environment.SetEnvironmentVariable(string, string)"/> on to native code on Unix, so the default is set
/// with libc's <c>setenv</c> when the test assembly loads, before any OpenCL call.
/// </summary>
internal static partial class PoclTestEnvironment
{
    public const string SkipVariable = "NATIVECNN_SKIP_GPU_TESTS";

    /// <summary>
    /// Why PoCL tests are skipped: <c>NATIVECNN_SKIP_GPU_TESTS=1</c>, or PoCL missing outside CI (see
    /// <see cref="References"/>); null when they run.
    /// </summary>
    public static string? SkipReason =>
        Environment.GetEnvironmentVariable(SkipVariable) == "1" ? $"{SkipVariable}=1" : References.SkipReason(ExternalReference.Pocl);

    [ModuleInitializer]
    internal static void SetPoclCache()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("POCL_CACHE_DIR") is { Length: > 0 }) return;
        string directory = Path.Combine(Path.GetTempPath(), "nativecnn-pocl-cache");
        Directory.CreateDirectory(directory);
        setenv("POCL_CACHE_DIR", directory, 0);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
