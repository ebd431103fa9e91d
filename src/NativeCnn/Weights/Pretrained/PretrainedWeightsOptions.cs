namespace NativeCnn.Weights.Pretrained;

/// <summary>
/// Where pretrained weight files are cached and fetched from, and the limits of a download. Properties left
/// <c>null</c> come from the environment: <c>NATIVECNN_HOME</c> and <c>NATIVECNN_WEIGHTS_URL</c>.
/// </summary>
public sealed record PretrainedWeightsOptions
{
    /// <summary>The environment variable naming NativeCnn's home folder (default <c>~/.nativecnn</c>).</summary>
    public const string HomeVariable = "NATIVECNN_HOME";

    /// <summary>The environment variable naming a mirror that replaces the scheme and host of weight URLs.</summary>
    public const string MirrorVariable = "NATIVECNN_WEIGHTS_URL";

    /// <summary>The default <see cref="MaximumSize"/> when the file's size is not known: 1 GiB (Keras's largest application file is under 300 MB).</summary>
    public const long DefaultMaximumSize = 1L << 30;

    /// <summary>
    /// The folder holding the cached files; <c>null</c> takes <c>$NATIVECNN_HOME/models</c>, or <c>~/.nativecnn/models</c>
    /// when the variable is unset (Keras's <c>~/.keras/models</c>).
    /// </summary>
    public string? CacheDirectory { get; init; }

    /// <summary>
    /// A mirror for air-gapped machines; <c>null</c> takes <c>$NATIVECNN_WEIGHTS_URL</c> (unset or empty: none). See
    /// <see cref="PretrainedWeights.MirrorUrl"/> for how URLs are rewritten.
    /// </summary>
    public string? MirrorUrl { get; init; }

    /// <summary>The longest wait for a connection, the response headers, or each read of the body (default 100 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>The largest file accepted when its size is not known in advance (default <see cref="DefaultMaximumSize"/>).</summary>
    public long MaximumSize { get; init; } = DefaultMaximumSize;

    /// <summary>
    /// How many times a transfer cut short is tried, each retry resuming with an HTTP <c>Range</c> request (default 3).
    /// HTTP errors, refused connections, timeouts and hash mismatches are not retried.
    /// </summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Receives the bytes written so far while a file downloads; <c>null</c> for none.</summary>
    public IProgress<WeightDownloadProgress>? Progress { get; init; }

    /// <summary><see cref="CacheDirectory"/>, or the folder the environment names.</summary>
    public string ResolveCacheDirectory()
    {
        if (!string.IsNullOrEmpty(CacheDirectory)) return CacheDirectory;
        string? home = Environment.GetEnvironmentVariable(HomeVariable);
        if (string.IsNullOrEmpty(home)) home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nativecnn");
        return Path.Combine(home, "models");
    }

    /// <summary><see cref="MirrorUrl"/>, or <c>$NATIVECNN_WEIGHTS_URL</c>; <c>null</c> when neither is set.</summary>
    public string? ResolveMirrorUrl()
    {
        string? mirror = MirrorUrl ?? Environment.GetEnvironmentVariable(MirrorVariable);
        return string.IsNullOrWhiteSpace(mirror) ? null : mirror.Trim();
    }

    /// <summary>Checks the limits.</summary>
    /// <exception cref="ArgumentException">A limit is not positive; the message names it.</exception>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero && Timeout != System.Threading.Timeout.InfiniteTimeSpan)
            throw new ArgumentException($"Timeout must be positive, got {Timeout}.", nameof(Timeout));
        if (MaximumSize < 1) throw new ArgumentException($"MaximumSize must be positive, got {MaximumSize}.", nameof(MaximumSize));
        if (MaxAttempts < 1) throw new ArgumentException($"MaxAttempts must be at least 1, got {MaxAttempts}.", nameof(MaxAttempts));
    }
}
