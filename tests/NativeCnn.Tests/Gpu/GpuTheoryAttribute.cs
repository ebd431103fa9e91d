namespace NativeCnn.Tests.Gpu;

/// <summary>A theory that is skipped only when <c>NATIVECNN_SKIP_GPU_TESTS=1</c>.</summary>
public sealed class GpuTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> from the environment.</summary>
    public GpuTheoryAttribute()
    {
        if (GpuTestEnvironment.Skipped) Skip = GpuTestEnvironment.SkipReason;
    }
}
