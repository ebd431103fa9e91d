namespace NativeCnn.Tests.Gpu;

/// <summary>A fact that is skipped only when <c>NATIVECNN_SKIP_GPU_TESTS=1</c>; otherwise a missing GPU stack fails it.</summary>
public sealed class GpuFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> from the environment.</summary>
    public GpuFactAttribute()
    {
        if (GpuTestEnvironment.Skipped) Skip = GpuTestEnvironment.SkipReason;
    }
}
