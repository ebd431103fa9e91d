using System.Runtime.Intrinsics;

namespace NativeCnn.Backends.Cpu.Simd;

/// <summary>A SIMD width the CPU kernels can run at; the value is the number of float lanes.</summary>
public enum SimdWidth
{
    /// <summary>The widest width this processor accelerates (<see cref="SimdDispatch.Best"/>).</summary>
    Auto = 0,

    /// <summary>One float at a time: the path for processors without SIMD, and the reference the vector widths agree with.</summary>
    Scalar = 1,

    /// <summary>4 lanes (SSE, AdvSIMD/NEON).</summary>
    Vector128 = 4,

    /// <summary>8 lanes (AVX2).</summary>
    Vector256 = 8,

    /// <summary>16 lanes (AVX-512).</summary>
    Vector512 = 16,
}

/// <summary>
/// The one place that picks the SIMD width the CPU kernels run at, and runs a kernel body at a width.
/// </summary>
public static class SimdDispatch
{
    /// <summary>
    /// The widest width the processor accelerates, decided once at start-up: Vector512 where the runtime accelerates
    /// it (AVX-512; the runtime leaves it off on processors that slow down with it), else Vector256, else Vector128,
    /// else scalar. The runtime's knobs (<c>DOTNET_EnableAVX512F=0</c>, <c>DOTNET_EnableAVX2=0</c>) lower it.
    /// </summary>
    public static SimdWidth Best { get; } =
        Vector512.IsHardwareAccelerated ? SimdWidth.Vector512
        : Vector256.IsHardwareAccelerated ? SimdWidth.Vector256
        : Vector128.IsHardwareAccelerated ? SimdWidth.Vector128
        : SimdWidth.Scalar;

    /// <summary>Whether <paramref name="width"/> runs in hardware here (every width runs; the others in software).</summary>
    public static bool IsAccelerated(SimdWidth width) => Resolve(width) switch
    {
        SimdWidth.Vector512 => Vector512.IsHardwareAccelerated,
        SimdWidth.Vector256 => Vector256.IsHardwareAccelerated,
        SimdWidth.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary><see cref="Best"/> for <see cref="SimdWidth.Auto"/>, else <paramref name="width"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> is not a <see cref="SimdWidth"/>.</exception>
    public static SimdWidth Resolve(SimdWidth width) => width switch
    {
        SimdWidth.Auto => Best,
        SimdWidth.Scalar or SimdWidth.Vector128 or SimdWidth.Vector256 or SimdWidth.Vector512 => width,
        _ => throw new ArgumentOutOfRangeException(nameof(width), width, "not a SIMD width: use Auto, Scalar, Vector128, Vector256 or Vector512"),
    };

    /// <summary>Runs <paramref name="kernel"/>'s body at <paramref name="width"/> (<see cref="SimdWidth.Auto"/>: <see cref="Best"/>).</summary>
    public static void Run<TKernel>(SimdWidth width, ref TKernel kernel) where TKernel : ISimdKernel, allows ref struct
    {
        switch (Resolve(width))
        {
            case SimdWidth.Vector512: kernel.Run<Lanes512, Vector512<float>>(); break;
            case SimdWidth.Vector256: kernel.Run<Lanes256, Vector256<float>>(); break;
            case SimdWidth.Vector128: kernel.Run<Lanes128, Vector128<float>>(); break;
            default: kernel.Run<LanesScalar, float>(); break;
        }
    }
}
