using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace NativeCnn.Tensors;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files, so that inputs, expected outputs and labels can move between
/// NumPy/Keras and NativeCnn.
/// </summary>
/// <remarks>
/// <para>
/// Reading accepts format versions 1.0, 2.0 and 3.0 holding a C-order, little-endian array of rank 0 to 4. The dtype
/// <c>&lt;f4</c> (float32) is copied as is; <c>&lt;f8</c>, <c>&lt;f2</c>, <c>&lt;i4</c>, <c>&lt;i8</c> and
/// <c>|u1</c> are converted to float32, rounding to nearest (so large integers and doubles may lose precision).
/// A rank-0 (scalar) array is read as shape <c>(1,)</c>, because a <see cref="TensorShape"/> has rank 1 to 4.
/// Fortran order, big-endian, object, structured and other dtypes are rejected.
/// </para>
/// <para>
/// Writing always produces format 1.0 with dtype <c>&lt;f4</c>, which every NumPy version reads.
/// </para>
/// <para>
/// A malformed file raises <see cref="InvalidDataException"/> whose message names the file (or "NPY stream"), the byte
/// offset and the problem. The size the header claims is checked against the bytes actually present before the
/// tensor is allocated, so a lying header cannot cause a huge allocation.
/// </para>
/// </remarks>
public static class NpyFile
{
    // A real header for rank <= 4 is under 200 bytes (NumPy pads it to a multiple of 64 and leaves room to grow);
    // the cap stops a lying 32-bit length in a version 2.0/3.0 file from allocating gigabytes.
    private const int MaxHeaderLength = 1 << 20;
    private const int PreambleLength = 8; // magic string + major and minor version bytes
    private const int HeaderAlignment = 64;
    private const int ChunkBytes = 1 << 16;
    private const int ChunkFloats = 1 << 20;

    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private enum DataType { Float32, Float64, Float16, Int32, Int64, UInt8 }

    /// <summary>Reads the array in the file at <paramref name="path"/> as a float32 tensor.</summary>
    /// <remarks>The file must hold exactly one array: bytes after the data are an error.</remarks>
    /// <exception cref="InvalidDataException">The file is not a readable <c>.npy</c> file; the message says where and why.</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    public static Tensor Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan);
        return Read(stream, path, wholeStream: true);
    }

    /// <summary>Reads one array from <paramref name="stream"/>, starting at its current position, as a float32 tensor.</summary>
    /// <remarks>
    /// The stream is left just after the array's data, so arrays saved one after another into one file (as repeated
    /// <c>np.save</c> calls on an open file do) can be read in turn; bytes after the data are therefore allowed.
    /// Offsets in error messages are stream positions for a seekable stream, and counted from the start of the array
    /// otherwise. A stream that cannot seek has its data staged in memory as it arrives before the tensor is
    /// allocated, so that a truncated stream is detected first; such a stream can hold at most 2 GiB of data.
    /// </remarks>
    /// <exception cref="InvalidDataException">The data is not a readable <c>.npy</c> array; the message says where and why.</exception>
    /// <exception cref="IOException">The stream could not be read.</exception>
    public static Tensor Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(stream, (stream as FileStream)?.Name, wholeStream: false);
    }

    /// <summary>Writes <paramref name="tensor"/> to a new file at <paramref name="path"/> (replacing any file there).</summary>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void Write(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Write(path, tensor.Span, tensor.Shape);
    }

    /// <summary>Writes <paramref name="tensor"/> to <paramref name="stream"/> at its current position.</summary>
    /// <exception cref="IOException">The stream could not be written.</exception>
    public static void Write(Stream stream, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Write(stream, tensor.Span, tensor.Shape);
    }

    /// <summary>Writes row-major <paramref name="data"/> of <paramref name="shape"/> to a new file at <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">The shape is empty (rank 0) or the data length does not match it.</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void Write(string path, ReadOnlySpan<float> data, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(path);
        Validate(data, shape);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        Write(stream, data, shape);
    }

    /// <summary>Writes row-major <paramref name="data"/> of <paramref name="shape"/> to <paramref name="stream"/> at its current position.</summary>
    /// <exception cref="ArgumentException">The shape is empty (rank 0) or the data length does not match it.</exception>
    /// <exception cref="IOException">The stream could not be written.</exception>
    public static void Write(Stream stream, ReadOnlySpan<float> data, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Validate(data, shape);
        stream.Write(BuildHeader(shape));

        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            const int floatsPerChunk = ChunkBytes / sizeof(float);
            for (int i = 0; i < data.Length; i += floatsPerChunk)
            {
                var chunk = data.Slice(i, Math.Min(floatsPerChunk, data.Length - i));
                var bytes = buffer.AsSpan(0, chunk.Length * sizeof(float));
                MemoryMarshal.AsBytes(chunk).CopyTo(bytes);
                if (!BitConverter.IsLittleEndian) ReverseEndianness(bytes);
                stream.Write(bytes);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Validate(ReadOnlySpan<float> data, TensorShape shape)
    {
        if (shape.Rank == 0) throw new ArgumentException("An empty (rank 0) shape cannot be written.", nameof(shape));
        if (data.Length != shape.ElementCount)
            throw new ArgumentException($"Expected {shape.ElementCount} values for shape {shape}, got {data.Length}.", nameof(data));
    }

    private static byte[] BuildHeader(TensorShape shape)
    {
        // TensorShape formats as a Python tuple, "(5,)" or "(2, 3)", exactly as NumPy's repr writes the shape.
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        // Version 1.0 stores the header length in 16 bits; a rank <= 4 header is always far shorter, so 2.0 is never needed.
        int unpadded = PreambleLength + sizeof(ushort) + dict.Length + 1;
        int headerLength = dict.Length + (HeaderAlignment - unpadded % HeaderAlignment) % HeaderAlignment + 1;

        var bytes = new byte[PreambleLength + sizeof(ushort) + headerLength];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(PreambleLength), (ushort)headerLength);
        var header = bytes.AsSpan(PreambleLength + sizeof(ushort));
        header.Fill((byte)' ');
        Encoding.ASCII.GetBytes(dict, header);
        header[^1] = (byte)'\n';
        return bytes;
    }

    private static Tensor Read(Stream stream, string? path, bool wholeStream)
    {
        var input = new Input(stream, path ?? "NPY stream");

        Span<byte> preamble = stackalloc byte[PreambleLength];
        input.ReadExactly(preamble[..Magic.Length], "the magic string");
        if (!preamble[..Magic.Length].SequenceEqual(Magic))
            throw input.Error(input.Offset - Magic.Length, $"not an NPY file: expected the magic string 93 4E 55 4D 50 59 (\\x93NUMPY), found {Convert.ToHexString(preamble[..Magic.Length])}.");
        input.ReadExactly(preamble[Magic.Length..], "the format version");
        byte major = preamble[6], minor = preamble[7];
        if (major is < 1 or > 3 || minor != 0)
            throw input.Error(input.Offset - 2, $"unsupported NPY format version {major}.{minor}; versions 1.0, 2.0 and 3.0 are supported.");

        long lengthOffset = input.Offset;
        Span<byte> lengthBytes = stackalloc byte[major == 1 ? 2 : 4];
        input.ReadExactly(lengthBytes, "the header length");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderLength)
            throw input.Error(lengthOffset, $"header length {headerLength} is larger than the {MaxHeaderLength} bytes this reader accepts.");
        if (input.Remaining is long remainingForHeader && headerLength > remainingForHeader)
            throw input.Error(lengthOffset, $"header length {headerLength} runs past the end of the data ({remainingForHeader} bytes follow the length field).");

        var header = new byte[headerLength];
        long headerOffset = input.Offset;
        input.ReadExactly(header, "the header");
        Span<int> dimensions = stackalloc int[TensorShape.MaxRank];
        var parsed = new HeaderParser(header, headerOffset, input).Parse(dimensions);
        var shape = parsed.Rank == 0 ? new TensorShape(1) : new TensorShape(dimensions[..parsed.Rank]);

        long dataOffset = input.Offset;
        long dataLength = shape.ElementCount * ItemSize(parsed.Type);
        if (input.Remaining is long remaining)
        {
            if (remaining < dataLength)
                throw input.Error(dataOffset, $"shape {shape} of dtype '{parsed.Descr}' needs {dataLength} bytes of data, but only {remaining} remain.");
            if (wholeStream && remaining > dataLength)
                throw input.Error(dataOffset + dataLength, $"{remaining - dataLength} unexpected bytes follow the {dataLength} bytes of data for shape {shape}.");
        }
        else
        {
            input = Stage(input, dataLength, shape);
        }

        var tensor = new Tensor(shape);
        try
        {
            ReadData(input, parsed.Type, tensor.Span);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return tensor;
    }

    // Copies the data of a stream that cannot report its length into memory that grows only as bytes arrive, so a
    // header claiming gigabytes costs nothing until the data is really there.
    private static Input Stage(Input input, long dataLength, TensorShape shape)
    {
        if (dataLength > Array.MaxLength)
            throw input.Error(input.Offset, $"shape {shape} needs {dataLength} bytes of data; more than {Array.MaxLength} bytes can only be read from a seekable stream.");
        var staged = new MemoryStream();
        long dataOffset = input.Offset;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            for (long done = 0; done < dataLength;)
            {
                int wanted = (int)Math.Min(ChunkBytes, dataLength - done);
                int got = input.Stream.ReadAtLeast(buffer.AsSpan(0, wanted), wanted, throwOnEndOfStream: false);
                staged.Write(buffer, 0, got);
                done += got;
                if (got < wanted)
                    throw input.Error(dataOffset + done, $"the data ends after {done} of the {dataLength} bytes that shape {shape} needs.");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        staged.Position = 0;
        return new Input(staged, input.Name, dataOffset);
    }

    private static void ReadData(Input input, DataType type, Span<float> destination)
    {
        if (type == DataType.Float32)
        {
            // Read straight into the tensor's memory, in chunks because a span of bytes cannot cover more than 2 GiB.
            for (int i = 0; i < destination.Length; i += ChunkFloats)
            {
                var chunk = MemoryMarshal.AsBytes(destination.Slice(i, Math.Min(ChunkFloats, destination.Length - i)));
                input.ReadExactly(chunk, "the array data");
                if (!BitConverter.IsLittleEndian) ReverseEndianness(chunk);
            }
            return;
        }

        int itemSize = ItemSize(type);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int itemsPerChunk = ChunkBytes / itemSize;
            for (int i = 0; i < destination.Length; i += itemsPerChunk)
            {
                var chunk = destination.Slice(i, Math.Min(itemsPerChunk, destination.Length - i));
                var bytes = buffer.AsSpan(0, chunk.Length * itemSize);
                input.ReadExactly(bytes, "the array data");
                ConvertToSingle(type, bytes, chunk);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void ConvertToSingle(DataType type, ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = type switch
            {
                DataType.Float64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(source[(i * 8)..]),
                DataType.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(source[(i * 2)..]),
                DataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(source[(i * 4)..]),
                DataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(source[(i * 8)..]),
                _ => source[i],
            };
        }
    }

    private static void ReverseEndianness(Span<byte> float32Bytes)
    {
        var words = MemoryMarshal.Cast<byte, int>(float32Bytes);
        BinaryPrimitives.ReverseEndianness(words, words);
    }

    private static int ItemSize(DataType type) => type switch
    {
        DataType.Float64 or DataType.Int64 => 8,
        DataType.Float32 or DataType.Int32 => 4,
        DataType.Float16 => 2,
        _ => 1,
    };

    /// <summary>A stream plus what an error message needs: the source's name and the current byte offset.</summary>
    private sealed class Input(Stream stream, string name, long offset)
    {
        public Input(Stream stream, string name) : this(stream, name, stream.CanSeek ? stream.Position : 0) { }

        public Stream Stream { get; } = stream;

        public string Name { get; } = name;

        public long Offset { get; private set; } = offset;

        /// <summary>The bytes left after the current position, or null when the stream cannot tell.</summary>
        public long? Remaining => Stream.CanSeek ? Math.Max(0, Stream.Length - Stream.Position) : null;

        public InvalidDataException Error(long offset, string problem) => new($"{Name} (byte {offset}): {problem}");

        public void ReadExactly(Span<byte> buffer, string what)
        {
            int got = Stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            Offset += got;
            if (got < buffer.Length)
                throw Error(Offset, $"the data ends inside {what} ({got} of {buffer.Length} bytes present).");
        }
    }

    private readonly record struct ParsedHeader(DataType Type, string Descr, int Rank);

    /// <summary>
    /// Parses the header, a Python dict literal such as <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>
    /// followed by space padding and a newline. It works on bytes, so error offsets are exact even in a UTF-8 (3.0) header.
    /// </summary>
    private ref struct HeaderParser(ReadOnlySpan<byte> text, long baseOffset, Input input)
    {
        private readonly ReadOnlySpan<byte> _text = text;
        private int _position;

        public ParsedHeader Parse(scoped Span<int> dimensions)
        {
            string? descr = null;
            DataType type = default;
            bool? fortranOrder = null;
            int rank = -1;

            SkipWhitespace();
            Expect((byte)'{', "to open the header dict");
            while (true)
            {
                SkipWhitespace();
                if (Peek() == '}')
                {
                    _position++;
                    break;
                }
                int keyPosition = _position;
                string key = ParseString("a dict key");
                SkipWhitespace();
                Expect((byte)':', $"after the key '{key}'");
                SkipWhitespace();
                bool duplicate = key switch
                {
                    "descr" => descr is not null,
                    "fortran_order" => fortranOrder is not null,
                    "shape" => rank >= 0,
                    _ => throw Error(keyPosition, $"unexpected key '{key}'; an NPY header has exactly 'descr', 'fortran_order' and 'shape'."),
                };
                if (duplicate) throw Error(keyPosition, $"the key '{key}' appears twice.");
                switch (key)
                {
                    case "descr":
                        (type, descr) = ParseDescr();
                        break;
                    case "fortran_order":
                        fortranOrder = ParseFortranOrder();
                        break;
                    default:
                        rank = ParseShape(dimensions);
                        break;
                }
                SkipWhitespace();
                int separator = Peek();
                _position++;
                if (separator == '}') break;
                if (separator != ',') throw Error(_position - 1, $"expected ',' or '}}' after the value of '{key}', found {Describe(separator)}.");
            }
            SkipWhitespace();
            if (_position < _text.Length)
                throw Error(_position, $"unexpected {Describe(_text[_position])} after the header dict.");
            if (descr is null) throw Error(0, "the header has no 'descr' key.");
            if (fortranOrder is null) throw Error(0, "the header has no 'fortran_order' key.");
            if (rank < 0) throw Error(0, "the header has no 'shape' key.");
            return new ParsedHeader(type, descr, rank);
        }

        private (DataType Type, string Descr) ParseDescr()
        {
            int start = _position;
            if (Peek() == '[')
                throw Error(start, "structured dtypes (a list 'descr') are not supported; save a plain numeric array.");
            string descr = ParseString("the 'descr' value");
            DataType? type = descr switch
            {
                "<f4" => DataType.Float32,
                "<f8" => DataType.Float64,
                "<f2" => DataType.Float16,
                "<i4" => DataType.Int32,
                "<i8" => DataType.Int64,
                "|u1" or "<u1" => DataType.UInt8,
                _ => null,
            };
            if (type is DataType known) return (known, descr);
            if (descr.StartsWith('>'))
                throw Error(start, $"big-endian dtype '{descr}' is not supported; save with arr.astype('<{descr[1..]}').");
            if (descr.Contains('O'))
                throw Error(start, $"object arrays (dtype '{descr}') are not supported.");
            throw Error(start, $"dtype '{descr}' is not supported; expected one of <f4, <f8, <f2, <i4, <i8, |u1.");
        }

        private bool ParseFortranOrder()
        {
            int start = _position;
            if (_text[_position..].StartsWith("False"u8))
            {
                _position += 5;
                return false;
            }
            if (_text[_position..].StartsWith("True"u8))
                throw Error(start, "fortran_order=True is not supported; save a C-order array (np.ascontiguousarray).");
            throw Error(start, $"expected True or False for 'fortran_order', found {Describe(Peek())}.");
        }

        private int ParseShape(scoped Span<int> dimensions)
        {
            int start = _position;
            Expect((byte)'(', "to open the 'shape' tuple");
            int rank = 0;
            bool trailingComma = false;
            while (true)
            {
                SkipWhitespace();
                if (Peek() == ')')
                {
                    _position++;
                    break;
                }
                int dimension = ParseDimension();
                if (rank == TensorShape.MaxRank)
                    throw Error(start, $"the shape has more than {TensorShape.MaxRank} dimensions; tensors have rank 1 to {TensorShape.MaxRank}.");
                dimensions[rank++] = dimension;
                SkipWhitespace();
                trailingComma = Peek() == ',';
                if (trailingComma)
                {
                    _position++;
                    continue;
                }
                Expect((byte)')', "or ',' after a dimension of 'shape'");
                break;
            }
            // In Python "(5)" is the integer 5, not a tuple; NumPy rejects it too.
            if (rank == 1 && !trailingComma)
                throw Error(start, "a one-dimensional shape needs a trailing comma, as in (5,).");
            if (rank > 0 && dimensions[..rank].Contains(0)) return rank;
            long count = 1;
            for (int i = 0; i < rank; i++)
            {
                count *= dimensions[i];
                if (count > int.MaxValue)
                    throw Error(start, $"the shape has more than {int.MaxValue} elements, the most one tensor holds.");
            }
            return rank;
        }

        private int ParseDimension()
        {
            int start = _position;
            if (Peek() == '-') throw Error(start, "a dimension of 'shape' is negative.");
            long value = 0;
            while (_position < _text.Length && char.IsAsciiDigit((char)_text[_position]))
            {
                value = value * 10 + (_text[_position++] - '0');
                if (value > int.MaxValue)
                    throw Error(start, $"a dimension of 'shape' is larger than {int.MaxValue}.");
            }
            if (_position == start)
                throw Error(start, $"expected a dimension (a non-negative integer) in 'shape', found {Describe(Peek())}.");
            // Files written by Python 2 have long literals such as 3L.
            if (Peek() == 'L') _position++;
            return (int)value;
        }

        private string ParseString(string what)
        {
            int start = _position;
            int quote = Peek();
            if (quote is not ('\'' or '"')) throw Error(start, $"expected a quoted string for {what}, found {Describe(quote)}.");
            int end = _text[(start + 1)..].IndexOfAny((byte)quote, (byte)'\\');
            if (end < 0) throw Error(start, $"the string for {what} is not closed.");
            end += start + 1;
            if (_text[end] == '\\') throw Error(end, $"escape sequences are not supported in {what}.");
            _position = end + 1;
            return Encoding.Latin1.GetString(_text[(start + 1)..end]);
        }

        private void Expect(byte expected, string why)
        {
            int found = Peek();
            if (found != expected) throw Error(_position, $"expected '{(char)expected}' {why}, found {Describe(found)}.");
            _position++;
        }

        private readonly int Peek() => _position < _text.Length ? _text[_position] : -1;

        private void SkipWhitespace()
        {
            while (_position < _text.Length && _text[_position] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') _position++;
        }

        private readonly InvalidDataException Error(int position, string problem) => input.Error(baseOffset + position, problem);

        private static string Describe(int b) => b switch
        {
            -1 => "the end of the header",
            >= 0x20 and < 0x7F => $"'{(char)b}'",
            _ => $"byte 0x{b:X2}",
        };
    }
}
