using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace NativeCnn.Weights.SafeTensors;

/// <summary>
/// Writes float32 tensors as a safetensors file, in the order they were added, with optional <c>__metadata__</c>.
/// The header is padded with spaces to a multiple of 8 bytes, as the reference writer does, so the data section (and
/// every float32 tensor in it) starts 8-byte aligned. Tensor data is streamed from the caller's memory, never copied
/// into one buffer.
/// </summary>
public sealed class SafeTensorsWriter
{
    private readonly List<(string Name, int[] Shape, ReadOnlyMemory<float> Values)> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>String metadata written as the header's <c>__metadata__</c> object (omitted when empty).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Adds a float32 tensor; <paramref name="values"/> is referenced, not copied, until <c>Save</c>.</summary>
    /// <param name="name">Unique tensor name, e.g. a Keras weight path; <c>__metadata__</c> is reserved.</param>
    /// <param name="shape">Row-major dimensions (empty for a scalar); their product must equal the number of values.</param>
    /// <param name="values">The tensor's values in row-major order.</param>
    public void Add(string name, ReadOnlySpan<int> shape, ReadOnlyMemory<float> values)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved for the metadata map.", nameof(name));
        long count = 1;
        foreach (int dim in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dim, nameof(shape));
            count *= dim;
        }
        if (count != values.Length)
            throw new ArgumentException($"'{name}': shape [{string.Join(", ", shape.ToArray())}] has {count} elements, but {values.Length} values were given.", nameof(values));
        if (!_names.Add(name)) throw new ArgumentException($"A tensor named '{name}' was already added.", nameof(name));
        _tensors.Add((name, shape.ToArray(), values));
    }

    /// <summary>Writes the file to <paramref name="path"/>, replacing any existing file.</summary>
    public void Save(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        Save(stream);
    }

    /// <summary>Writes the file to <paramref name="stream"/> at its current position.</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = BuildHeader();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var tensor in _tensors) WriteValues(stream, tensor.Values.Span);
        stream.Flush();
    }

    private byte[] BuildHeader()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (Metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in Metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, shape, values) in _tensors)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int dim in shape) json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += 4L * values.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteValues(Stream stream, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        Span<byte> element = stackalloc byte[4];
        foreach (float value in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(element, value);
            stream.Write(element);
        }
    }
}
