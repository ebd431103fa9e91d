namespace NativeCnn.Tests.Backends.Gpu;

/// <summary>A fact that is skipped when <c>NATIVECNN_SKIP_GPU_TESTS=1</c>, or when PoCL or clang is missing outside CI.</summary>
public sealed class GpuFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> from the environment.</summary>
    public GpuFactAttribute()
    {
        if (GpuTestEnvironment.SkipReason is { } reason) Skip = reason;
    }
}
