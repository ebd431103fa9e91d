using System.Runtime.Intrinsics.X86;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>
/// Which forced vector widths this processor can run. The kernels' Vector512 paths use AVX-512 instructions directly
/// (masked loads and stores, vscalefps), so on a processor without AVX-512 they throw PlatformNotSupportedException;
/// the dispatching entries never choose them there. Tests that force a width run only the widths the processor has,
/// and the Vector512-only tests are reported as skipped (<see cref="Vector512TheoryAttribute"/>).
/// </summary>
internal static class SimdSupport
{
    /// <summary>
    /// The four widths of the width-generic SIMD layer, for kernels written over it: every width runs on every
    /// processor (one the processor lacks runs in software), so tests force each of them everywhere.
    /// </summary>
    public static TheoryData<SimdWidth> AllWidths => [.. AllWidthsAndAuto[..4]];

    /// <summary>The four widths and <see cref="SimdWidth.Auto"/> (the width a kernel picks by default).</summary>
    public static SimdWidth[] AllWidthsAndAuto => [SimdWidth.Scalar, SimdWidth.Vector128, SimdWidth.Vector256, SimdWidth.Vector512, SimdWidth.Auto];

    /// <summary>Whether the Vector512 kernel paths can run here.</summary>
    public static bool HasVector512 => Avx512F.IsSupported;

    /// <summary>The reason Vector512 tests do not run here, or null when they do.</summary>
    public static string? Vector512SkipReason => HasVector512 ? null : "this processor has no AVX-512: the Vector512 kernel paths are not tested here";

    /// <summary>The widths (in bits; 0 is the dispatching entry or scalar) that run here.</summary>
    public static int[] Bits(params int[] widths) => [.. widths.Where(w => w != 512 || HasVector512)];

    /// <summary>The width names ("Vector512", "Vector256", "Scalar", "Entry") that run here.</summary>
    public static string[] Names(params string[] widths) => [.. widths.Where(w => w != "Vector512" || HasVector512)];
}

/// <summary>A theory over the Vector512 paths: reported as skipped, with the reason, where the processor lacks AVX-512.</summary>
internal sealed class Vector512TheoryAttribute : TheoryAttribute
{
    public Vector512TheoryAttribute()
    {
        if (SimdSupport.Vector512SkipReason is { } reason) Skip = reason;
    }
}
