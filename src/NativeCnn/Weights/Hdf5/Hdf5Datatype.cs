using System.Buffers.Binary;
using System.Text;

namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// A parsed datatype message (numbers and strings only) and the conversions of raw elements of that type.
/// </summary>
/// <param name="ElementType">What the elements are.</param>
/// <param name="Size">Bytes per element in the raw data: for a variable-length string, the 4-byte length plus the global heap ID.</param>
/// <param name="BigEndian">Whether numbers are stored most significant byte first.</param>
/// <param name="SpacePadded">Whether a fixed-length string is padded with spaces (rather than NULs).</param>
internal sealed record Hdf5Datatype(Hdf5ElementType ElementType, int Size, bool BigEndian, bool SpacePadded)
{
    private const int ClassFixedPoint = 0;
    private const int ClassFloat = 1;
    private const int ClassString = 3;
    private const int ClassVariableLength = 9;

    /// <summary>Whether the elements are numbers.</summary>
    public bool IsNumeric => ElementType is not (Hdf5ElementType.FixedLengthString or Hdf5ElementType.VariableLengthString);

    /// <summary>Parses a datatype message body.</summary>
    public static Hdf5Datatype Parse(Hdf5Reader reader, ReadOnlySpan<byte> body, long fileOffset, string objectPath)
    {
        if (body.Length < 8) throw reader.Corrupt(objectPath, fileOffset, "datatype message is too short.");
        int typeClass = body[0] & 0x0F;
        int bits = body[1] | body[2] << 8 | body[3] << 16;
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        bool bigEndian = (bits & 1) != 0;
        switch (typeClass)
        {
            case ClassFixedPoint:
                if (size is not (1 or 2 or 4 or 8))
                    throw new NotSupportedException($"{reader.FileName}: {objectPath}: {size}-byte integers are not supported.");
                return new Hdf5Datatype((bits & 0x08) != 0 ? Hdf5ElementType.SignedInteger : Hdf5ElementType.UnsignedInteger, (int)size, bigEndian, false);
            case ClassFloat:
                return ParseFloat(reader, body, fileOffset, objectPath, bits, size);
            case ClassString:
                if (size == 0 || size > int.MaxValue) throw reader.Corrupt(objectPath, fileOffset, $"fixed-length string of {size} bytes.");
                return new Hdf5Datatype(Hdf5ElementType.FixedLengthString, (int)size, false, (bits & 0x0F) == 2);
            case ClassVariableLength:
                if ((bits & 0x0F) != 1)
                    throw new NotSupportedException($"{reader.FileName}: {objectPath}: variable-length sequences (other than strings) are not supported.");
                return new Hdf5Datatype(Hdf5ElementType.VariableLengthString, 4 + reader.OffsetSize + 4, false, false);
            default:
                throw new NotSupportedException($"{reader.FileName}: {objectPath}: HDF5 datatype class {typeClass} ({ClassName(typeClass)}) is not supported.");
        }
    }

    private static Hdf5Datatype ParseFloat(Hdf5Reader reader, ReadOnlySpan<byte> body, long fileOffset, string objectPath, int bits, uint size)
    {
        if (body.Length < 20) throw reader.Corrupt(objectPath, fileOffset, "floating-point datatype message is too short.");
        if ((bits & 0x40) != 0) throw new NotSupportedException($"{reader.FileName}: {objectPath}: VAX floating-point byte order is not supported.");
        int exponentSize = body[13];
        int mantissaSize = body[15];
        // Only the IEEE layouts are accepted, so that bfloat16 or other custom floats are refused, not misread.
        var type = (size, exponentSize, mantissaSize) switch
        {
            (2, 5, 10) => Hdf5ElementType.Float16,
            (4, 8, 23) => Hdf5ElementType.Float32,
            (8, 11, 52) => Hdf5ElementType.Float64,
            _ => throw new NotSupportedException(
                $"{reader.FileName}: {objectPath}: a {size}-byte float with {exponentSize} exponent and {mantissaSize} mantissa bits is not an IEEE type this reader supports."),
        };
        return new Hdf5Datatype(type, (int)size, (bits & 1) != 0, false);
    }

    private static string ClassName(int typeClass) => typeClass switch
    {
        2 => "time",
        4 => "bitfield",
        5 => "opaque",
        6 => "compound",
        7 => "reference",
        8 => "enum",
        10 => "array",
        _ => "unknown",
    };

    /// <summary>Converts <paramref name="raw"/> (whole elements of this numeric type) to float32, rounding to nearest.</summary>
    public void ToSingles(ReadOnlySpan<byte> raw, Span<float> destination)
    {
        int n = destination.Length;
        switch (ElementType)
        {
            case Hdf5ElementType.Float32:
                for (int i = 0; i < n; i++)
                {
                    var e = raw.Slice(i * 4, 4);
                    destination[i] = BigEndian ? BinaryPrimitives.ReadSingleBigEndian(e) : BinaryPrimitives.ReadSingleLittleEndian(e);
                }
                break;
            case Hdf5ElementType.Float16:
                for (int i = 0; i < n; i++)
                {
                    var e = raw.Slice(i * 2, 2);
                    destination[i] = (float)(BigEndian ? BinaryPrimitives.ReadHalfBigEndian(e) : BinaryPrimitives.ReadHalfLittleEndian(e));
                }
                break;
            default:
                for (int i = 0; i < n; i++) destination[i] = (float)ToDouble(raw.Slice(i * Size, Size));
                break;
        }
    }

    /// <summary>Converts one numeric element to double.</summary>
    public double ToDouble(ReadOnlySpan<byte> e) => ElementType switch
    {
        Hdf5ElementType.Float64 => BigEndian ? BinaryPrimitives.ReadDoubleBigEndian(e) : BinaryPrimitives.ReadDoubleLittleEndian(e),
        Hdf5ElementType.Float32 => BigEndian ? BinaryPrimitives.ReadSingleBigEndian(e) : BinaryPrimitives.ReadSingleLittleEndian(e),
        Hdf5ElementType.Float16 => (double)(BigEndian ? BinaryPrimitives.ReadHalfBigEndian(e) : BinaryPrimitives.ReadHalfLittleEndian(e)),
        Hdf5ElementType.SignedInteger => Size switch
        {
            1 => (sbyte)e[0],
            2 => BigEndian ? BinaryPrimitives.ReadInt16BigEndian(e) : BinaryPrimitives.ReadInt16LittleEndian(e),
            4 => BigEndian ? BinaryPrimitives.ReadInt32BigEndian(e) : BinaryPrimitives.ReadInt32LittleEndian(e),
            _ => BigEndian ? BinaryPrimitives.ReadInt64BigEndian(e) : BinaryPrimitives.ReadInt64LittleEndian(e),
        },
        Hdf5ElementType.UnsignedInteger => Size switch
        {
            1 => e[0],
            2 => BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(e) : BinaryPrimitives.ReadUInt16LittleEndian(e),
            4 => BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(e) : BinaryPrimitives.ReadUInt32LittleEndian(e),
            _ => BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(e) : BinaryPrimitives.ReadUInt64LittleEndian(e),
        },
        _ => throw new InvalidOperationException("Not a numeric type."),
    };

    /// <summary>Decodes <paramref name="count"/> string elements from <paramref name="raw"/>, which starts at file offset <paramref name="rawOffset"/>.</summary>
    public string[] ToStrings(Hdf5Reader reader, ReadOnlySpan<byte> raw, long rawOffset, int count, string objectPath)
    {
        var strings = new string[count];
        for (int i = 0; i < count; i++)
        {
            var e = raw.Slice(i * Size, Size);
            if (ElementType == Hdf5ElementType.FixedLengthString)
            {
                // NUL-terminated and NUL-padded strings both end at the first NUL; space padding is trimmed.
                int end = e.IndexOf((byte)0);
                if (end >= 0) e = e[..end];
                if (SpacePadded) e = e.TrimEnd((byte)' ');
                reader.Charge(e.Length, objectPath, rawOffset + (long)i * Size, "a fixed-length string");
                strings[i] = Encoding.UTF8.GetString(e);
                continue;
            }
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(e);
            ulong collection = Hdf5Reader.ReadUnsigned(e[4..], reader.OffsetSize);
            int index = (int)BinaryPrimitives.ReadUInt32LittleEndian(e[(4 + reader.OffsetSize)..]);
            if (collection == 0 && length == 0)
            {
                strings[i] = ""; // h5py writes an empty string as a null heap ID
                continue;
            }
            long collectionOffset = reader.ToOffset(collection, objectPath, rawOffset + (long)i * Size + 4, "global heap collection");
            strings[i] = reader.HeapString(collectionOffset, index, length, objectPath);
        }
        return strings;
    }
}
