using System.Text;

namespace NativeCnn.Backends.Gpu;

/// <summary>
/// The kernel source shared by both GPU backends: one C-subset body (the embedded <c>Kernels/nativecnn.cl.c</c>) behind a
/// prelude of macros per dialect, so the OpenCL and CUDA kernels can never drift apart.
/// </summary>
internal static class KernelSource
{
    private const string ResourceName = "NativeCnn.Backends.Gpu.Kernels.nativecnn.cl.c";

    /// <summary>OpenCL C 1.2: address-space qualifiers and the work-item functions.</summary>
    public const string OpenClPrelude = """
        #define KERNEL __kernel
        #define GLOBAL __global
        #define LOCAL __local
        #define RESTRICT restrict
        #define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
        #define GLOBAL_ID(d) ((int)get_global_id(d))
        #define LOCAL_ID(d) ((int)get_local_id(d))
        #define GROUP_ID(d) ((int)get_group_id(d))
        #define DEVICE_FN static inline
        #define FMAF(a, b, c) fma((a), (b), (c))
        #define MAXF(a, b) fmax((a), (b))
        #define MINF(a, b) fmin((a), (b))
        #define EXPF(x) exp(x)
        #define TANHF(x) tanh(x)

        """;

    /// <summary>CUDA C++: <c>extern "C"</c> keeps the names unmangled for <c>cuModuleGetFunction</c>; pointers are generic.</summary>
    public const string CudaPrelude = """
        #define KERNEL extern "C" __global__
        #define GLOBAL
        #define LOCAL __shared__
        #define RESTRICT __restrict__
        #define BARRIER() __syncthreads()
        #define NATIVECNN_DIM(v, d) ((d) == 0 ? (v).x : (d) == 1 ? (v).y : (v).z)
        #define GLOBAL_ID(d) ((int)(NATIVECNN_DIM(blockIdx, d) * NATIVECNN_DIM(blockDim, d) + NATIVECNN_DIM(threadIdx, d)))
        #define LOCAL_ID(d) ((int)NATIVECNN_DIM(threadIdx, d))
        #define GROUP_ID(d) ((int)NATIVECNN_DIM(blockIdx, d))
        #define DEVICE_FN static __device__ __forceinline__
        #define FMAF(a, b, c) fmaf((a), (b), (c))
        #define MAXF(a, b) fmaxf((a), (b))
        #define MINF(a, b) fminf((a), (b))
        #define EXPF(x) expf(x)
        #define TANHF(x) tanhf(x)

        """;

    private static readonly Lazy<string> s_body = new(ReadBody);

    /// <summary>The shared kernel bodies.</summary>
    public static string Body => s_body.Value;

    /// <summary>The OpenCL C program text.</summary>
    public static string OpenCl => OpenClPrelude + Body;

    /// <summary>The CUDA C++ program text.</summary>
    public static string Cuda => CudaPrelude + Body;

    private static string ReadBody()
    {
        using var stream = typeof(KernelSource).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The kernel source resource '{ResourceName}' is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
