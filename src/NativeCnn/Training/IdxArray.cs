using System.Buffers.Binary;

namespace NativeCnn.Training;

/// <summary>An array read from an IDX file: its dimensions, element type and the raw (big-endian) element bytes.</summary>
public sealed class IdxArray
{
    private readonly byte[] _data;

    internal IdxArray(int[] dimensions, IdxElementType elementType, byte[] data)
    {
        Dimensions = dimensions;
        ElementType = elementType;
        _data = data;
    }

    /// <summary>The dimensions, outermost first (images: count, rows, columns).</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>The element type.</summary>
    public IdxElementType ElementType { get; }

    /// <summary>The number of elements.</summary>
    public int Length => _data.Length / ItemSize(ElementType);

    /// <summary>The raw element bytes, big-endian as in the file.</summary>
    public ReadOnlySpan<byte> RawData => _data;

    /// <summary>Writes every element, converted to float32 and multiplied by <paramref name="scale"/>, into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not <see cref="Length"/> long.</exception>
    public void CopyTo(Span<float> destination, float scale = 1f)
    {
        if (destination.Length != Length)
            throw new ArgumentException($"Expected a destination of {Length} values, got {destination.Length}.", nameof(destination));
        var data = _data.AsSpan();
        for (int i = 0; i < destination.Length; i++)
        {
            float value = ElementType switch
            {
                IdxElementType.UInt8 => data[i],
                IdxElementType.Int8 => (sbyte)data[i],
                IdxElementType.Int16 => BinaryPrimitives.ReadInt16BigEndian(data[(2 * i)..]),
                IdxElementType.Int32 => BinaryPrimitives.ReadInt32BigEndian(data[(4 * i)..]),
                IdxElementType.Float32 => BinaryPrimitives.ReadSingleBigEndian(data[(4 * i)..]),
                _ => (float)BinaryPrimitives.ReadDoubleBigEndian(data[(8 * i)..]),
            };
            destination[i] = value * scale;
        }
    }

    /// <summary>Every element converted to an int (labels); float elements are truncated toward zero.</summary>
    public int[] ToInt32()
    {
        var values = new float[Length];
        CopyTo(values);
        return Array.ConvertAll(values, v => (int)v);
    }

    internal static int ItemSize(IdxElementType type) => type switch
    {
        IdxElementType.UInt8 or IdxElementType.Int8 => 1,
        IdxElementType.Int16 => 2,
        IdxElementType.Int32 or IdxElementType.Float32 => 4,
        _ => 8,
    };

    /// <inheritdoc/>
    public override string ToString() => $"IDX {ElementType} ({string.Join(", ", Dimensions)})";
}
