namespace NativeCnn.Tests.Backends.Gpu;

/// <summary>A theory that is skipped when <c>NATIVECNN_SKIP_GPU_TESTS=1</c>, or when PoCL or clang is missing outside CI.</summary>
public sealed class GpuTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> from the environment.</summary>
    public GpuTheoryAttribute()
    {
        if (GpuTestEnvironment.SkipReason is { } reason) Skip = reason;
    }
}
