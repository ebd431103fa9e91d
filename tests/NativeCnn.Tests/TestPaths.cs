namespace NativeCnn.Tests;

/// <summary>Locations inside the repository, found from the test binaries' folder.</summary>
internal static class TestPaths
{
    /// <summary>The folder holding <c>NativeCnn.sln</c>.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NativeCnn.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No NativeCnn.sln above {AppContext.BaseDirectory}.");
    }
}
