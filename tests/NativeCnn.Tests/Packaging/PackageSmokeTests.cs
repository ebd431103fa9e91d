namespace NativeCnn.Tests.Packaging;

/// <summary>
/// Packs src/NativeCnn, restores the package from a local folder feed into a throwaway console app (the README's usage
/// example), and runs it: the package must carry a working library, its package README, XML docs, release notes and
/// repository commit, with the symbols in a .snupkg beside it.
/// </summary>
public sealed class PackageSmokeTests
{
    [Fact]
    public void PackedLibraryRunsATinyModelInAFreshConsoleApp()
    {
        string root = TestPaths.RepositoryRoot;
        string work = Directory.CreateTempSubdirectory("nativecnn-package-").FullName;
        try
        {
            // A unique version, so a package cached by an earlier run is never picked up instead.
            string version = $"0.0.0-smoke.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
            string feed = Path.Combine(work, "feed");
            TestProcess.Run("dotnet", ["pack", Path.Combine(root, "src", "NativeCnn", "NativeCnn.csproj"), "-c", "Release", "-o", feed, $"-p:Version={version}"], root);

            string package = Path.Combine(feed, $"NativeCnn.{version}.nupkg");
            Assert.True(File.Exists(package), $"dotnet pack did not produce {package}");
            using (var zip = System.IO.Compression.ZipFile.OpenRead(package))
            {
                var entries = zip.Entries.Select(e => e.FullName).ToArray();
                Assert.Contains("README.md", entries);
                Assert.Contains("lib/net10.0/NativeCnn.dll", entries);
                Assert.Contains("lib/net10.0/NativeCnn.xml", entries);
                // The package README is the one written for package users, not the repository's.
                using (var readme = new StreamReader(zip.GetEntry("README.md")!.Open()))
                {
                    string text = readme.ReadToEnd();
                    Assert.Contains("## What the package holds", text);
                    Assert.DoesNotContain("tests/run.sh", text);
                }
                using var nuspec = new StreamReader(zip.GetEntry("NativeCnn.nuspec")!.Open());
                var metadata = System.Xml.Linq.XDocument.Parse(nuspec.ReadToEnd()).Root!.Elements().First();
                var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
                Assert.Equal("git", (string?)repository.Attribute("type"));
                // SourceLink takes the commit from git; a source tree without .git has none to record.
                if (Directory.Exists(Path.Combine(root, ".git")) || File.Exists(Path.Combine(root, ".git")))
                    Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit") ?? "");
                Assert.False(string.IsNullOrWhiteSpace(metadata.Elements().Single(e => e.Name.LocalName == "releaseNotes").Value));
            }
            string symbols = Path.Combine(feed, $"NativeCnn.{version}.snupkg");
            Assert.True(File.Exists(symbols), $"dotnet pack did not produce {symbols}");
            using (var zip = System.IO.Compression.ZipFile.OpenRead(symbols))
                Assert.Contains("lib/net10.0/NativeCnn.pdb", zip.Entries.Select(e => e.FullName));

            string app = Path.Combine(work, "app");
            Directory.CreateDirectory(app);
            string templates = Path.Combine(root, "tests", "PackageSmoke");
            File.WriteAllText(Path.Combine(app, "App.csproj"),
                File.ReadAllText(Path.Combine(templates, "PackageSmoke.csproj.template")).Replace("$VERSION$", version));
            File.Copy(Path.Combine(templates, "Program.cs.template"), Path.Combine(app, "Program.cs"));
            File.WriteAllText(Path.Combine(app, "NuGet.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local-feed" value="{feed}" />
                  </packageSources>
                </configuration>
                """);

            string output = TestProcess.Run("dotnet", ["run", "-c", "Release"], app);
            Assert.Contains("probabilities sum 1.0000", output);
            Assert.Contains("Total params:", output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
