using System.IO.Compression;

namespace NativeCnn.Weights;

/// <summary>
/// What the loaders share for reading files that may be hostile: the size limits applied before anything is allocated
/// or inflated, bounded reads of zip members, and errors that name the file.
/// </summary>
internal static class UntrustedInput
{
    /// <summary>
    /// The largest JSON document a loader parses (a Keras model config, a <c>.keras</c> archive's <c>config.json</c>, a
    /// TensorFlow.js <c>model.json</c>): 64 MiB. EfficientNet-B7's config is about 0.2 MB.
    /// </summary>
    public const int MaxJsonBytes = 64 << 20;

    /// <summary>
    /// How much larger than its compressed bytes a deflated weights member may be: weights are float data, which deflate
    /// shrinks little (a model of exact zeros is not worth loading); below <see cref="SmallMemberBytes"/> any ratio is allowed.
    /// </summary>
    public const int MaxWeightsRatio = 100;

    /// <summary>Members up to this size (16 MiB) may have any compression ratio (small HDF5 files are mostly zero padding).</summary>
    public const long SmallMemberBytes = 16 << 20;

    /// <summary>
    /// Runs <paramref name="load"/>, putting <paramref name="source"/> (the file) in front of the message of every
    /// <see cref="InvalidDataException"/> or <see cref="NotSupportedException"/> that does not start with it yet.
    /// </summary>
    public static T NamingFile<T>(string source, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException && !e.Message.StartsWith(source + ":", StringComparison.Ordinal))
        {
            throw e is NotSupportedException
                ? new NotSupportedException($"{source}: {e.Message}", e)
                : new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    /// <inheritdoc cref="NamingFile{T}(string, Func{T})"/>
    public static void NamingFile(string source, Action load) => NamingFile(source, () =>
    {
        load();
        return true;
    });

    /// <summary>
    /// The bytes of zip member <paramref name="entry"/> of <paramref name="source"/>, read only when its declared size is
    /// at most <paramref name="limit"/> and counted while inflating, so that a member whose header lies about its size can
    /// neither inflate past that size nor make the reader allocate for bytes that never come: the buffer grows with
    /// the bytes actually inflated.
    /// </summary>
    /// <exception cref="InvalidDataException">The member declares more than the limit, inflates past or ends before its
    /// declared size, or is corrupt; the message names the file, the member and the sizes.</exception>
    public static MemoryStream ReadMember(string source, ZipArchiveEntry entry, long limit)
    {
        long declared = entry.Length;
        if (declared > limit)
            throw new InvalidDataException($"{source}: member '{entry.FullName}' declares {declared} bytes ({entry.CompressedLength} compressed), more than the {limit} accepted.");
        var bytes = new MemoryStream((int)Math.Min(declared, 1 << 20));
        var chunk = new byte[1 << 16];
        try
        {
            using var stream = entry.Open();
            int read;
            // One byte past the declared size is enough to know that the header lied.
            while (bytes.Length <= declared && (read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, declared + 1 - bytes.Length))) > 0)
                bytes.Write(chunk, 0, read);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new InvalidDataException($"{source}: member '{entry.FullName}' cannot be inflated ({e.Message}).", e);
        }
        if (bytes.Length > declared)
            throw new InvalidDataException($"{source}: member '{entry.FullName}' inflates past its declared {declared} bytes.");
        if (bytes.Length < declared)
            throw new InvalidDataException($"{source}: member '{entry.FullName}' ends after {bytes.Length} of its declared {declared} bytes.");
        bytes.Position = 0;
        return bytes;
    }
}
