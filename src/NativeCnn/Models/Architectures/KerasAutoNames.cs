namespace NativeCnn.Models.Architectures;

/// <summary>
/// The names Keras gives unnamed layers and operations in a fresh session: the snake-case class name, then
/// <c>_1</c>, <c>_2</c>, … for each further one (<c>backend.unique_object_name</c> / <c>auto_name</c>).
/// </summary>
internal sealed class KerasAutoNames
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>The next name for <paramref name="baseName"/>: <c>re_lu</c>, <c>re_lu_1</c>, <c>re_lu_2</c>, …</summary>
    public string Next(string baseName)
    {
        _counts.TryGetValue(baseName, out int count);
        _counts[baseName] = count + 1;
        return count == 0 ? baseName : $"{baseName}_{count}";
    }
}
