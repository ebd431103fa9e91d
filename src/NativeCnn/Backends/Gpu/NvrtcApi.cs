using System.Runtime.InteropServices;
using System.Text;

namespace NativeCnn.Backends.Gpu;

/// <summary>
/// NVRTC, CUDA's run-time compiler (from the toolkit, not the driver; 11.2 or newer for the arch list). The kernel
/// source is compiled to a CUBIN for the device's own architecture when NVRTC knows it, which avoids the driver
/// rejecting PTX newer than itself, and to PTX for the closest older architecture otherwise.
/// </summary>
internal static unsafe partial class NvrtcApi
{
    private const string Lib = NativeLibraries.Nvrtc;

    static NvrtcApi() => NativeLibraries.Register();

    [LibraryImport(Lib)] public static partial int nvrtcVersion(int* major, int* minor);
    [LibraryImport(Lib)] public static partial int nvrtcCreateProgram(nint* program, byte* source, byte* name, int headerCount, byte** headers, byte** includeNames);
    [LibraryImport(Lib)] public static partial int nvrtcCompileProgram(nint program, int optionCount, byte** options);
    [LibraryImport(Lib)] public static partial int nvrtcGetPTXSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial int nvrtcGetPTX(nint program, byte* ptx);
    [LibraryImport(Lib)] public static partial int nvrtcGetCUBINSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial int nvrtcGetCUBIN(nint program, byte* cubin);
    [LibraryImport(Lib)] public static partial int nvrtcGetProgramLogSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial int nvrtcGetProgramLog(nint program, byte* log);
    [LibraryImport(Lib)] public static partial int nvrtcDestroyProgram(nint* program);
    [LibraryImport(Lib)] public static partial byte* nvrtcGetErrorString(int code);
    [LibraryImport(Lib)] public static partial int nvrtcGetNumSupportedArchs(int* count);
    [LibraryImport(Lib)] public static partial int nvrtcGetSupportedArchs(int* archs);

    /// <summary>Throws a <see cref="GpuException"/> naming <paramref name="api"/> unless <paramref name="code"/> is success.</summary>
    public static void Check(int code, string api, string? detail = null)
    {
        if (code != 0) throw new GpuException(api, code, Marshal.PtrToStringUTF8((nint)nvrtcGetErrorString(code)) ?? "nvrtcResult", detail);
    }

    /// <summary>
    /// Compiles <paramref name="source"/> for a device of compute capability <paramref name="major"/>.<paramref name="minor"/>
    /// and returns the NUL-terminated image for <c>cuModuleLoadData</c>; a failed compile throws with NVRTC's log.
    /// </summary>
    public static byte[] Compile(string source, int major, int minor, IReadOnlyList<string> defines)
    {
        int device = major * 10 + minor, count;
        Check(nvrtcGetNumSupportedArchs(&count), "nvrtcGetNumSupportedArchs");
        var archs = new int[count];
        fixed (int* a = archs) Check(nvrtcGetSupportedArchs(a), "nvrtcGetSupportedArchs");
        int arch = archs.Where(a => a <= device).DefaultIfEmpty(archs.Length == 0 ? device : archs.Min()).Max();
        bool cubin = arch == device;
        var options = new List<string> { cubin ? $"--gpu-architecture=sm_{arch}" : $"--gpu-architecture=compute_{arch}", "--std=c++17" };
        options.AddRange(defines);

        nint program;
        fixed (byte* s = Utf8Z(source)) fixed (byte* n = Utf8Z("nativecnn.cu"))
            Check(nvrtcCreateProgram(&program, s, n, 0, null, null), "nvrtcCreateProgram");
        try
        {
            var pinned = options.Select(o => GCHandle.Alloc(Utf8Z(o), GCHandleType.Pinned)).ToArray();
            int code;
            try
            {
                var pointers = new nint[pinned.Length];
                for (int i = 0; i < pinned.Length; i++) pointers[i] = pinned[i].AddrOfPinnedObject();
                fixed (nint* p = pointers) code = nvrtcCompileProgram(program, pointers.Length, (byte**)p);
            }
            finally
            {
                foreach (var handle in pinned) handle.Free();
            }
            if (code != 0) Check(code, "nvrtcCompileProgram", Log(program));
            nuint size;
            if (cubin) Check(nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
            else Check(nvrtcGetPTXSize(program, &size), "nvrtcGetPTXSize");
            var image = new byte[(int)size + 1];
            fixed (byte* p = image)
            {
                if (cubin) Check(nvrtcGetCUBIN(program, p), "nvrtcGetCUBIN");
                else Check(nvrtcGetPTX(program, p), "nvrtcGetPTX");
            }
            return image;
        }
        finally
        {
            nvrtcDestroyProgram(&program);
        }
    }

    private static string Log(nint program)
    {
        nuint size;
        if (nvrtcGetProgramLogSize(program, &size) != 0) return "";
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes) nvrtcGetProgramLog(program, p);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    private static byte[] Utf8Z(string text) => Encoding.UTF8.GetBytes(text + "\0");
}
