using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;

namespace NativeCnn.Backends.Ilgpu;

/// <summary>
/// Finds the GPU drivers for ILGPU. ILGPU P/Invokes <c>"cuda"</c> and <c>"OpenCL"</c>, which .NET probes as
/// <c>libcuda.so</c>/<c>libOpenCL.so</c>: only the -dev packages ship those, drivers ship <c>.so.1</c>. So
/// <see cref="InstallResolver"/> sets ILGPU's one <see cref="NativeLibrary.SetDllImportResolver"/> (an assembly takes
/// only one) to map those names to the runtime sonames.
/// </summary>
internal static class NativeLibraries
{
    public const string OpenCl = "OpenCL";
    public const string Cuda = "cuda";

    private static readonly Lock s_lock = new();
    private static readonly Dictionary<string, nint> s_loaded = new(StringComparer.Ordinal);
    private static bool s_resolverInstalled;

    /// <summary>
    /// Installs the resolver on ILGPU's assembly, once. It is kept out only if the host application set one on ILGPU
    /// first; then the application decides where the drivers are.
    /// </summary>
    public static void InstallResolver()
    {
        lock (s_lock)
        {
            if (s_resolverInstalled) return;
            s_resolverInstalled = true;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, Resolve);
            }
            catch (InvalidOperationException)
            {
                // The application installed its own resolver for ILGPU.
            }
        }
    }

    /// <summary>Loads <paramref name="name"/> (a logical name above); <paramref name="handle"/> is 0 when none of the candidates loads.</summary>
    public static bool TryLoad(string name, out nint handle)
    {
        lock (s_lock)
        {
            if (!s_loaded.TryGetValue(name, out handle))
            {
                foreach (var candidate in Candidates(name))
                    if (NativeLibrary.TryLoad(candidate, out handle)) break;
                s_loaded[name] = handle;
            }
            return handle != 0;
        }
    }

    /// <summary>The file names tried for a logical name, in order.</summary>
    private static string[] Candidates(string name) => name switch
    {
        // The CUDA toolkit ships an ICD loader too, used on a GPU box that has no system one.
        OpenCl => ["libOpenCL.so.1", "libOpenCL.so", "/usr/local/cuda/lib64/libOpenCL.so.1", "OpenCL.dll"],
        Cuda => ["libcuda.so.1", "libcuda.so", "nvcuda.dll"],
        _ => [],
    };

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) => name switch
    {
        "cuda" or "nvcuda" => TryLoad(Cuda, out var cuda) ? cuda : 0,
        "OpenCL" => TryLoad(OpenCl, out var openCl) ? openCl : 0,
        _ => 0,
    };
}
