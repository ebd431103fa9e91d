using System.Reflection;
using System.Runtime.InteropServices;

namespace NativeCnn.Backends.Gpu;

/// <summary>
/// The one <see cref="NativeLibrary.SetDllImportResolver"/> of the assembly (it allows only one): maps the logical
/// names used by <see cref="OpenClApi"/>, <see cref="CudaApi"/> and <see cref="NvrtcApi"/> to the runtime sonames, because
/// the bare names would be probed as <c>libOpenCL.so</c>/<c>libcuda.so</c>, which only the -dev packages provide.
/// </summary>
internal static class NativeLibraries
{
    public const string OpenCl = "OpenCL";
    public const string Cuda = "cuda";
    public const string Nvrtc = "nvrtc";

    private static readonly Lock s_lock = new();
    private static readonly Dictionary<string, nint> s_loaded = new(StringComparer.Ordinal);
    private static bool s_registered;

    /// <summary>Installs the resolver; every API class calls this from its static constructor.</summary>
    public static void Register()
    {
        lock (s_lock)
        {
            if (s_registered) return;
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
            s_registered = true;
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
    public static IEnumerable<string> Candidates(string name)
    {
        switch (name)
        {
            case OpenCl:
                // The CUDA toolkit ships an ICD loader too, used on a GPU box that has no system one.
                foreach (var file in (string[])["libOpenCL.so.1", "libOpenCL.so", "/usr/local/cuda/lib64/libOpenCL.so.1", "OpenCL.dll"])
                    yield return file;
                break;
            case Cuda:
                foreach (var file in (string[])["libcuda.so.1", "libcuda.so", "nvcuda.dll"])
                    yield return file;
                break;
            case Nvrtc:
                // NVRTC comes with the toolkit, not the driver; its soname carries the major version and its lib64
                // is often missing from ld.so.cache, so the toolkit folders are tried too.
                string[] files = OperatingSystem.IsWindows()
                    ? ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"]
                    : ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so.11.1", "libnvrtc.so"];
                foreach (var directory in NvrtcDirectories())
                    foreach (var file in files)
                    {
                        var path = directory.Length == 0 ? file : Path.Combine(directory, file);
                        if (directory.Length == 0 || File.Exists(path)) yield return path;
                    }
                break;
        }
    }

    private static IEnumerable<string> NvrtcDirectories()
    {
        yield return "";
        foreach (var variable in (string[])["CUDA_PATH", "CUDA_HOME", "CUDA_ROOT"])
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } root)
            {
                yield return Path.Combine(root, "lib64");
                yield return Path.Combine(root, "bin");
            }
        yield return "/usr/local/cuda/lib64";
        yield return "/usr/local/cuda/targets/x86_64-linux/lib";
        if (Directory.Exists("/usr/local"))
            foreach (var directory in Directory.GetDirectories("/usr/local", "cuda-*").OrderDescending())
                yield return Path.Combine(directory, "lib64");
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name is OpenCl or Cuda or Nvrtc && TryLoad(name, out var handle) ? handle : 0;
}
