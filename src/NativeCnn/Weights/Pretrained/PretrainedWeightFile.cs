namespace NativeCnn.Weights.Pretrained;

/// <summary>
/// One downloadable weight file: where Keras publishes it and how to check it. <see cref="PretrainedWeights.ImageNet"/>
/// returns the Keras application files; build one yourself to fetch any other file through the same verified cache.
/// </summary>
/// <param name="Url">The http(s) URL; its last path segment is the cached file's name.</param>
/// <param name="Hash">The expected hex digest (case-insensitive), or <c>null</c> when none is published.</param>
/// <param name="Algorithm">The algorithm of <paramref name="Hash"/>; <see cref="WeightHashAlgorithm.None"/> when it is null.</param>
/// <param name="Size">The file's size in bytes when known: the download must have exactly this size and is capped at it.</param>
public sealed record PretrainedWeightFile(string Url, string? Hash, WeightHashAlgorithm Algorithm, long? Size = null)
{
    /// <summary>The name the file is cached under: the last segment of <see cref="Url"/> (Keras's <c>fname</c>).</summary>
    /// <exception cref="ArgumentException"><see cref="Url"/> is not an absolute http(s) URL ending in a file name.</exception>
    public string FileName
    {
        get
        {
            if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"'{Url}' is not an absolute http(s) URL.", nameof(Url));
            string name = Uri.UnescapeDataString(uri.Segments[^1]);
            if (name.Length == 0 || name is "." or ".." || name.IndexOfAny(['/', '\\', ':']) >= 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
                throw new ArgumentException($"'{Url}' does not end in a file name.", nameof(Url));
            return name;
        }
    }

    /// <summary>Checks that the record can be fetched: an http(s) URL with a file name and a hash that fits its algorithm.</summary>
    /// <exception cref="ArgumentException">The URL, the hash or the size is invalid; the message names it.</exception>
    public void Validate()
    {
        _ = FileName;
        int? length = Algorithm switch
        {
            WeightHashAlgorithm.None => null,
            WeightHashAlgorithm.Md5 => 32,
            WeightHashAlgorithm.Sha256 => 64,
            _ => throw new ArgumentException($"{Url}: unknown hash algorithm {(int)Algorithm}.", nameof(Algorithm)),
        };
        if (length is null && Hash is not null) throw new ArgumentException($"{Url}: a hash needs an algorithm (Md5 or Sha256).", nameof(Hash));
        if (length is { } n && (Hash is null || Hash.Length != n || !Hash.All(char.IsAsciiHexDigit)))
            throw new ArgumentException($"{Url}: a {Algorithm} hash is {n} hex digits, got '{Hash}'.", nameof(Hash));
        if (Size is < 1) throw new ArgumentException($"{Url}: size must be positive, got {Size}.", nameof(Size));
    }
}
