namespace NativeCnn.Weights.Pretrained;

/// <summary>
/// A weight file could not be fetched or verified: an HTTP error, an unreachable host, a timeout, a truncated transfer,
/// a file over the size limit, or a hash mismatch. The message names the URL (and for a mismatch both hashes); nothing
/// is left in the cache.
/// </summary>
public sealed class WeightDownloadException : IOException
{
    /// <summary>Creates the exception for <paramref name="url"/>.</summary>
    public WeightDownloadException(string url, string message, Exception? innerException = null) : base(message, innerException) => Url = url;

    /// <summary>The URL that failed.</summary>
    public string Url { get; }
}
