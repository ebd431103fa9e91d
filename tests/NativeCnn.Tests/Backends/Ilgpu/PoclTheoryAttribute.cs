namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>A theory that is skipped when <c>NATIVECNN_SKIP_GPU_TESTS=1</c>, or when PoCL is missing outside CI.</summary>
public sealed class PoclTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> from the environment.</summary>
    public PoclTheoryAttribute()
    {
        if (PoclTestEnvironment.SkipReason is { } reason) Skip = reason;
    }
}
