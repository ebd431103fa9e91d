namespace NativeCnn.Weights;

/// <summary>
/// The folder a model file sits in, for the paths a file names inside itself (TensorFlow.js weight shards) and the files
/// a weight folder lists: each must resolve, after normalising and following symbolic links, to a path inside the
/// folder's real path. A path that leaves it (<c>../../etc/passwd</c>, an absolute path, a link to outside) is refused
/// before anything outside is looked at: no stat, no open, nothing about the outside file in the message.
/// </summary>
internal sealed class ModelFolder
{
    // As Linux's MAXSYMLINKS (ELOOP): more links than this on one path is a loop or an attack.
    private const int MaxLinks = 40;

    private static readonly StringComparison PathComparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly string _source;

    /// <summary>The folder <paramref name="directory"/>, for errors about <paramref name="source"/> (the model file).</summary>
    /// <exception cref="InvalidDataException">The folder's own path holds a symbolic-link loop.</exception>
    public ModelFolder(string source, string directory)
    {
        _source = source;
        RealPath = RealPathOf(Path.GetFullPath(directory), inside: null)!;
    }

    /// <summary>The folder with every symbolic link on its path resolved.</summary>
    public string RealPath { get; }

    /// <summary>
    /// The real path of the regular file <paramref name="relative"/> names inside the folder, or an
    /// <see cref="InvalidDataException"/> naming <paramref name="what"/> (e.g. <c>group 1: shard path "x.bin"</c>).
    /// </summary>
    public string ResolveFile(string relative, string what)
    {
        if (string.IsNullOrEmpty(relative) || relative.Contains('\0') || Path.IsPathRooted(relative))
            throw Error($"{what} is not a relative file name");
        string candidate = Path.GetFullPath(Path.Join(RealPath, relative));
        if (!IsInside(RealPath, candidate)) throw Error($"{what} leaves the model's folder '{RealPath}'; refused");
        string real = RealPathOf(candidate, inside: RealPath)
            ?? throw Error($"{what} goes through a symbolic link that leads out of the model's folder '{RealPath}'; refused");
        if (Directory.Exists(real)) throw Error($"{what}: '{real}' is a directory, not a file");
        if (!File.Exists(real)) throw Error($"{what}: file '{real}' does not exist");
        return real;
    }

    private InvalidDataException Error(string message) => new($"{_source}: {message}.");

    private static bool IsInside(string folder, string path)
    {
        if (path.Length == folder.Length) return path.Equals(folder, PathComparison);
        string prefix = Path.EndsInDirectorySeparator(folder) ? folder : folder + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, PathComparison);
    }

    /// <summary>
    /// <paramref name="path"/> (absolute, normalised) with each component that is a symbolic link replaced by its target,
    /// as the operating system resolves it. With <paramref name="inside"/> (a real path), the walk starts there and every
    /// link target must stay inside it; null as soon as one does not, before the outside target is looked at.
    /// </summary>
    private string? RealPathOf(string path, string? inside)
    {
        int links = 0;
        while (true)
        {
            if (inside is not null && !IsInside(inside, path)) return null;
            string current = inside ?? Path.GetPathRoot(path)!;
            string[] parts = path[current.Length..].Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
            string? restarted = null;
            for (int i = 0; i < parts.Length && restarted is null; i++)
            {
                string next = Path.Join(current, parts[i]);
                string? target = new FileInfo(next).LinkTarget;
                if (target is null)
                {
                    current = next;
                    continue;
                }
                if (++links > MaxLinks) throw Error($"'{path}' goes through more than {MaxLinks} symbolic links (a loop?)");
                // The target is relative to the link's folder, which is already real, so lexical normalisation is exact.
                restarted = Path.GetFullPath(Path.Join(Path.GetFullPath(target, current), string.Join(Path.DirectorySeparatorChar, parts[(i + 1)..])));
            }
            if (restarted is null) return current;
            path = restarted;
        }
    }
}
