namespace NativeCnn.Tests.Backends.Gpu;

/// <summary>The test classes sharing <see cref="OpenClFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class OpenClCollection : ICollectionFixture<OpenClFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "OpenCL";
}
