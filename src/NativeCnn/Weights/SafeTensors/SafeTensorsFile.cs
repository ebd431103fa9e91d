using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Unicode;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace NativeCnn.Weights.SafeTensors;

/// <summary>
/// Reader for the safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON describing every
/// tensor (<c>dtype</c>, <c>shape</c>, <c>data_offsets</c> relative to the data section) plus an optional
/// <c>__metadata__</c> string map, then the data section. The whole header is validated on open as the reference
/// implementation does, so a lying file fails early rather than on some later read: the tensors must cover the data
/// section completely and contiguously (no gaps, overlaps or trailing bytes) and each byte range must match its
/// dtype × shape. Tensor data is read on demand with positioned reads; the file is never loaded whole.
/// </summary>
/// <remarks>
/// Reads are thread-safe. The file is treated as untrusted: the header may hold at most <see cref="MaxHeaderSize"/>
/// bytes and must fit in the file before it is read; every dimension is checked (non-negative 32-bit), the element
/// count is computed without overflow and must match the tensor's byte range, and the ranges must tile the data section
/// exactly, so no read ever goes past the file and nothing is allocated for a size the file does not hold. The file
/// names no other path, so nothing outside it is opened. Every problem with the file is an
/// <see cref="InvalidDataException"/> whose message starts with the file's path and names the tensor (where there is
/// one), the offending value and the absolute byte offset.
/// </remarks>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>The largest header accepted, as the reference implementation's <c>MAX_HEADER_SIZE</c>.</summary>
    public const long MaxHeaderSize = 100_000_000;

    private const string MetadataKey = "__metadata__";
    private const int ChunkBytes = 1 << 16;

    private readonly Stream? _stream;
    private readonly SafeFileHandle? _handle;
    private readonly bool _leaveOpen;
    private readonly Lock _streamLock = new();
    private readonly string _source;
    private readonly Dictionary<string, SafeTensorInfo> _tensors;
    private bool _disposed;

    /// <summary>Opens and validates the safetensors file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The header is malformed or inconsistent with the file.</exception>
    public SafeTensorsFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        _source = path;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            (_tensors, Names, Metadata) = ReadHeader(RandomAccess.GetLength(_handle));
        }
        catch
        {
            _handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads a safetensors file from a readable, seekable <paramref name="stream"/>.</summary>
    /// <param name="stream">The file contents; position 0 is the start of the file.</param>
    /// <param name="leaveOpen">Whether <see cref="Dispose"/> leaves <paramref name="stream"/> open.</param>
    /// <exception cref="InvalidDataException">The header is malformed or inconsistent with the stream.</exception>
    public SafeTensorsFile(Stream stream, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanSeek) throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        _source = "<stream>";
        _stream = stream;
        _leaveOpen = leaveOpen;
        (_tensors, Names, Metadata) = ReadHeader(stream.Length);
    }

    /// <summary>Tensor names in data-section order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The header's <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Whether the file holds a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The validated header entry of tensor <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public SafeTensorInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _tensors.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{_source}: no tensor '{name}'.");
    }

    /// <summary>Reads tensor <paramref name="name"/> converted to float32 (see <see cref="ReadSingles(string, Span{float})"/>).</summary>
    /// <exception cref="NotSupportedException">The tensor has more elements than one array holds.</exception>
    public float[] ReadSingles(string name)
    {
        var info = GetInfo(name);
        if (info.ElementCount > Array.MaxLength)
            throw new NotSupportedException($"{_source}: tensor '{name}' has {info.ElementCount} elements, more than the {Array.MaxLength} one array holds (byte offset {info.FileOffset}).");
        var values = new float[info.ElementCount];
        ReadSingles(name, values);
        return values;
    }

    /// <summary>
    /// Reads tensor <paramref name="name"/> into <paramref name="destination"/>, converted to float32: F32 as is; F16,
    /// BF16 and the integer types exactly; F64 rounded to nearest; BOOL as 0 or 1.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not exactly the tensor's element count.</exception>
    /// <exception cref="InvalidDataException">The dtype has no float32 conversion (complex, 8-bit floats), or the file was truncated after opening.</exception>
    public void ReadSingles(string name, Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var info = GetInfo(name);
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"'{name}' has {info.ElementCount} elements, the destination {destination.Length}.", nameof(destination));
        if (info.DType == "F32" && BitConverter.IsLittleEndian)
        {
            // Straight into the destination; in slices because a byte span cannot exceed 2^31 - 1 bytes.
            const int sliceFloats = 1 << 28;
            for (int start = 0; start < destination.Length; start += sliceFloats)
            {
                var slice = destination.Slice(start, Math.Min(sliceFloats, destination.Length - start));
                ReadAt(info, info.FileOffset + 4L * start, MemoryMarshal.AsBytes(slice));
            }
            return;
        }
        Converter convert = ConverterFor(info);
        int size = ElementSize(info.DType);
        byte[] chunk = ArrayPool<byte>.Shared.Rent((int)Math.Min(info.ByteLength, ChunkBytes));
        try
        {
            int perChunk = chunk.Length / size;
            for (int start = 0; start < destination.Length; start += perChunk)
            {
                int count = Math.Min(perChunk, destination.Length - start);
                var bytes = chunk.AsSpan(0, count * size);
                ReadAt(info, info.FileOffset + (long)start * size, bytes);
                convert(bytes, destination.Slice(start, count));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>Closes the file (or the stream, unless it was opened with <c>leaveOpen</c>).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _handle?.Dispose();
        if (!_leaveOpen) _stream?.Dispose();
    }

    private delegate void Converter(ReadOnlySpan<byte> source, Span<float> destination);

    private Converter ConverterFor(SafeTensorInfo info) => info.DType switch
    {
        "F32" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = BinaryPrimitives.ReadSingleLittleEndian(s[(4 * i)..]); },
        "F64" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(s[(8 * i)..]); },
        "F16" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(s[(2 * i)..]); },
        // bfloat16 is the top half of a float32, so widening is a shift.
        "BF16" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(s[(2 * i)..]) << 16); },
        "I64" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = BinaryPrimitives.ReadInt64LittleEndian(s[(8 * i)..]); },
        "U64" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = BinaryPrimitives.ReadUInt64LittleEndian(s[(8 * i)..]); },
        "I32" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = BinaryPrimitives.ReadInt32LittleEndian(s[(4 * i)..]); },
        "U32" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = BinaryPrimitives.ReadUInt32LittleEndian(s[(4 * i)..]); },
        "I16" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = BinaryPrimitives.ReadInt16LittleEndian(s[(2 * i)..]); },
        "U16" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = BinaryPrimitives.ReadUInt16LittleEndian(s[(2 * i)..]); },
        "I8" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = (sbyte)s[i]; },
        "U8" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = s[i]; },
        "BOOL" => static (s, d) => { for (int i = 0; i < d.Length; i++) d[i] = s[i] != 0 ? 1f : 0f; },
        _ => throw Error($"tensor '{info.Name}': dtype {info.DType} cannot be converted to float32", info.FileOffset),
    };

    /// <summary>Bytes per element of each dtype the reader accepts; 0 for an unknown dtype.</summary>
    private static int ElementSize(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0" => 1,
        "I16" or "U16" or "F16" or "BF16" => 2,
        "I32" or "U32" or "F32" => 4,
        "I64" or "U64" or "F64" or "C64" => 8,
        _ => 0,
    };

    private (Dictionary<string, SafeTensorInfo>, IReadOnlyList<string>, IReadOnlyDictionary<string, string>) ReadHeader(long fileLength)
    {
        if (fileLength < 8) throw Error($"the file has {fileLength} bytes, fewer than the 8-byte header length", 0);
        Span<byte> prefix = stackalloc byte[8];
        ReadAt(null, 0, prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderSize) throw Error($"header length {headerLength} exceeds the maximum {MaxHeaderSize}", 0);
        if (headerLength > (ulong)(fileLength - 8)) throw Error($"header length {headerLength} exceeds the {fileLength - 8} bytes after the length field", 0);
        var header = new byte[headerLength];
        ReadAt(null, 8, header);
        if (header.Length == 0 || header[0] != (byte)'{') throw Error("the header does not start with '{'", 8);
        // The JSON reader checks UTF-8 only lazily (when a name is decoded), so check it all here.
        if (!Utf8.IsValid(header)) throw Error("the header is not valid UTF-8", 8);

        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;
        var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        bool sawMetadata = false;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw Error($"the header is not valid JSON ({e.Message})", 8 + (e.BytePositionInLine ?? 0));
        }
        using (document)
        {
            foreach (var property in document.RootElement.EnumerateObject())
            {
                string name = property.Name;
                if (name == MetadataKey)
                {
                    if (sawMetadata) throw Error($"duplicate '{MetadataKey}'", 8);
                    sawMetadata = true;
                    ReadMetadata(property.Value, metadata);
                    continue;
                }
                if (tensors.ContainsKey(name)) throw Error($"tensor '{name}': duplicate name in the header", 8);
                tensors.Add(name, ReadEntry(name, property.Value, dataStart, dataLength));
            }
        }

        // Contiguous and complete coverage, as the reference validate(): sorted by offsets, each begin is the previous end.
        // A stable sort, so empty tensors sharing an offset keep their header order in Names.
        var ordered = tensors.Values.OrderBy(static t => t.DataBegin).ThenBy(static t => t.DataEnd).ToArray();
        long expected = 0;
        foreach (var info in ordered)
        {
            if (info.DataBegin != expected)
            {
                string what = info.DataBegin < expected ? "overlaps the previous tensor" : "leaves a gap after the previous tensor";
                throw Error($"tensor '{info.Name}': data_offsets [{info.DataBegin}, {info.DataEnd}] {what} (which ends at {expected})", info.FileOffset);
            }
            expected = info.DataEnd;
        }
        if (expected != dataLength)
            throw Error($"the tensors cover {expected} bytes of the {dataLength}-byte data section (trailing bytes are not allowed)", dataStart + expected);
        return (tensors, Array.AsReadOnly(ordered.Select(static t => t.Name).ToArray()), metadata.AsReadOnly());
    }

    private void ReadMetadata(JsonElement element, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object) throw Error($"'{MetadataKey}' is not an object", 8);
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String) throw Error($"'{MetadataKey}' value '{entry.Name}' is not a string", 8);
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!)) throw Error($"'{MetadataKey}' has a duplicate key '{entry.Name}'", 8);
        }
    }

    private SafeTensorInfo ReadEntry(string name, JsonElement entry, long dataStart, long dataLength)
    {
        if (entry.ValueKind != JsonValueKind.Object) throw Error($"tensor '{name}': the entry is not an object", 8);
        if (!entry.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Error($"tensor '{name}': missing or non-string 'dtype'", 8);
        string dtype = dtypeElement.GetString()!;
        int size = ElementSize(dtype);
        if (size == 0) throw Error($"tensor '{name}': unsupported dtype '{dtype}'", 8);

        if (!entry.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Error($"tensor '{name}': missing or non-array 'shape'", 8);
        var shape = new int[shapeElement.GetArrayLength()];
        // Saturating product, so a lying shape cannot overflow; a zero dimension still makes the count 0.
        const long saturated = long.MaxValue / 16;
        long count = 1;
        bool empty = false;
        int axis = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt32(out int value) || value < 0)
                throw Error($"tensor '{name}': shape[{axis}] = {dim.GetRawText()} is not a non-negative 32-bit integer", 8);
            shape[axis++] = value;
            empty |= value == 0;
            count = value != 0 && count > saturated / value ? saturated : count * value;
        }
        if (empty) count = 0;

        if (!entry.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Error($"tensor '{name}': 'data_offsets' is not a [begin, end] pair", 8);
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetUInt64(out ulong begin) || !offsets[1].TryGetUInt64(out ulong end))
            throw Error($"tensor '{name}': data_offsets {offsets.GetRawText()} are not non-negative integers", 8);
        if (end < begin) throw Error($"tensor '{name}': data_offsets [{begin}, {end}] end before they begin", 8);
        if (end > (ulong)dataLength)
            throw Error($"tensor '{name}': data_offsets [{begin}, {end}] run past the {dataLength}-byte data section", dataStart + (long)Math.Min(begin, (ulong)dataLength));
        long fileOffset = dataStart + (long)begin;
        if ((ulong)(count * size) != end - begin)
            throw Error($"tensor '{name}': {dtype} shape [{string.Join(", ", shape)}] needs {count * size} bytes, data_offsets [{begin}, {end}] hold {end - begin}", fileOffset);
        return new SafeTensorInfo(name, dtype, shape, (long)begin, (long)end, fileOffset);
    }

    private void ReadAt(SafeTensorInfo? info, long offset, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int read;
            if (_handle is not null)
            {
                read = RandomAccess.Read(_handle, destination[total..], offset + total);
            }
            else
            {
                lock (_streamLock)
                {
                    _stream!.Position = offset + total;
                    read = _stream.Read(destination[total..]);
                }
            }
            if (read == 0)
            {
                string what = info is null ? "" : $"tensor '{info.Name}': ";
                throw Error($"{what}the file ended while reading {destination.Length} bytes (was it truncated?)", offset + total);
            }
            total += read;
        }
    }

    private InvalidDataException Error(string message, long offset) =>
        new($"{_source}: {message} (byte offset {offset}).");
}
