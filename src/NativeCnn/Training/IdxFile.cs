using System.Buffers.Binary;
using System.IO.Compression;

namespace NativeCnn.Training;

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST, raw or gzip-compressed (recognised by the gzip magic
/// bytes 1F 8B, whatever the file name).
/// </summary>
/// <remarks>
/// <para>
/// An IDX file is a 4-byte magic number (0, 0, element type, rank), <c>rank</c> big-endian uint32 dimensions, then the
/// elements row-major and big-endian.
/// </para>
/// <para>
/// The input is treated as untrusted. The header is checked (magic, element type, rank 1 to
/// <see cref="MaxRank"/>, dimensions below 2^31, total size at most <c>maxBytes</c>) before anything is allocated. A raw
/// file must be exactly as long as its header says. Compressed data is inflated into memory that grows only with the
/// bytes actually inflated, and never past the size the header declares plus one byte; a file that ends early or
/// holds more than its header declares is an <see cref="InvalidDataException"/> naming the file, the offset, and the
/// expected and actual sizes.
/// </para>
/// </remarks>
public static class IdxFile
{
    /// <summary>The largest rank accepted.</summary>
    public const int MaxRank = 8;

    /// <summary>The default bound on the data size: 1 GiB (Fashion-MNIST's training images are 47 MB).</summary>
    public const long DefaultMaxBytes = 1L << 30;

    private const int FirstChunk = 1 << 20;

    /// <summary>Reads the IDX file at <paramref name="path"/>.</summary>
    /// <param name="path">The file, raw or gzip-compressed.</param>
    /// <param name="maxBytes">The most data bytes accepted (at most <see cref="Array.MaxLength"/>).</param>
    /// <exception cref="InvalidDataException">The file is not a valid IDX file; the message names it, the offset and the problem.</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    public static IdxArray Read(string path, long maxBytes = DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(file, path, maxBytes);
    }

    /// <summary>Reads one IDX array from <paramref name="stream"/> (raw or gzip-compressed); <paramref name="name"/> goes in error messages.</summary>
    /// <exception cref="InvalidDataException">The data is not a valid IDX array.</exception>
    /// <exception cref="IOException">The stream could not be read.</exception>
    public static IdxArray Read(Stream stream, string name, long maxBytes = DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        if (maxBytes < 0 || maxBytes > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(maxBytes), $"maxBytes must be in [0, {Array.MaxLength}], got {maxBytes}.");

        Span<byte> head = stackalloc byte[2];
        int got = stream.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        bool gzip = got == 2 && head[0] == 0x1F && head[1] == 0x8B;
        // Put the two bytes back in front of the stream: a prefix stream avoids requiring a seekable input.
        Stream source = new PrefixStream(head[..got].ToArray(), stream);
        long? rawLength = !gzip && stream.CanSeek ? stream.Length - stream.Position + got : null;
        string where = gzip ? $"{name} (inflated)" : name;
        if (gzip) source = new GZipStream(source, CompressionMode.Decompress);
        try
        {
            return ReadIdx(source, where, rawLength, maxBytes);
        }
        catch (InvalidDataException e) when (gzip && !e.Message.StartsWith(where, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{where}: the gzip data is corrupt ({e.Message}).", e);
        }
        finally
        {
            if (gzip) source.Dispose();
        }
    }

    private static IdxArray ReadIdx(Stream input, string name, long? rawLength, long maxBytes)
    {
        Span<byte> magic = stackalloc byte[4];
        ReadHeader(input, magic, name, 0, "the magic number");
        if (magic[0] != 0 || magic[1] != 0)
            throw Error(name, 0, $"not an IDX file: the magic number must start with 00 00, found {Convert.ToHexString(magic)}.");
        var type = (IdxElementType)magic[2];
        if (!Enum.IsDefined(type))
            throw Error(name, 2, $"unknown IDX element type 0x{magic[2]:X2}; expected 08, 09, 0B, 0C, 0D or 0E.");
        int rank = magic[3];
        if (rank is < 1 or > MaxRank)
            throw Error(name, 3, $"rank {rank} is not supported; expected 1 to {MaxRank}.");

        var dimensions = new int[rank];
        Span<byte> dimension = stackalloc byte[4];
        int itemSize = IdxArray.ItemSize(type);
        long dataBytes = itemSize;
        for (int i = 0; i < rank; i++)
        {
            long offset = 4 + 4L * i;
            ReadHeader(input, dimension, name, offset, $"dimension {i}");
            uint value = BinaryPrimitives.ReadUInt32BigEndian(dimension);
            if (value > int.MaxValue) throw Error(name, offset, $"dimension {i} is {value}, above {int.MaxValue}.");
            dimensions[i] = (int)value;
            dataBytes = dataBytes == 0 || value == 0 ? 0 : dataBytes > maxBytes / value ? long.MaxValue : dataBytes * value;
        }
        long dataOffset = 4 + 4L * rank;
        string shape = $"({string.Join(", ", dimensions)}) of {type}";
        if (dataBytes > maxBytes)
            throw Error(name, 4, $"dimensions {shape} need more than the {maxBytes} bytes of data this reader accepts.");
        if (rawLength is long length && length - dataOffset != dataBytes)
            throw Error(name, dataOffset, $"dimensions {shape} need {dataBytes} bytes of data, but the file has {Math.Max(0, length - dataOffset)} after the header.");

        // Grow with the data actually present, so that a lying header over a short (or compressed) file costs nothing.
        var data = new byte[(int)Math.Min(dataBytes, FirstChunk)];
        long filled = 0;
        while (true)
        {
            int read = input.ReadAtLeast(data.AsSpan((int)filled), data.Length - (int)filled, throwOnEndOfStream: false);
            filled += read;
            if (filled < data.Length)
                throw Error(name, dataOffset + filled, $"the data ends after {filled} of the {dataBytes} bytes that dimensions {shape} need.");
            if (filled == dataBytes) break;
            Array.Resize(ref data, (int)Math.Min(dataBytes, 2L * data.Length));
        }
        Span<byte> extra = stackalloc byte[1];
        if (input.Read(extra) != 0)
            throw Error(name, dataOffset + dataBytes, $"more data follows the {dataBytes} bytes that dimensions {shape} need.");
        return new IdxArray(dimensions, type, data);
    }

    private static void ReadHeader(Stream input, Span<byte> buffer, string name, long offset, string what)
    {
        int got = input.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (got < buffer.Length)
            throw Error(name, offset + got, $"the file ends inside {what} ({got} of {buffer.Length} bytes present).");
    }

    private static InvalidDataException Error(string name, long offset, string problem) => new($"{name} (byte {offset}): {problem}");

    /// <summary>A read-only stream that yields <c>prefix</c> and then the rest of <c>inner</c> (which it does not own).</summary>
    private sealed class PrefixStream(byte[] prefix, Stream inner) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }
            return inner.Read(buffer);
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
