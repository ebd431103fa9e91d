using System.Buffers.Binary;
using System.Text;

namespace NativeCnn.Weights.Hdf5;

/// <summary>A parsed attribute message (versions 1 to 3): name, type, shape and the raw value bytes.</summary>
/// <param name="Name">The attribute's name.</param>
/// <param name="Type">The element type.</param>
/// <param name="Space">The shape.</param>
/// <param name="Data">Exactly <c>Space.ElementCount * Type.Size</c> bytes.</param>
/// <param name="DataOffset">The file offset of <see cref="Data"/>, for error messages.</param>
internal sealed record Hdf5Attribute(string Name, Hdf5Datatype Type, Hdf5Dataspace Space, ReadOnlyMemory<byte> Data, long DataOffset)
{

    /// <summary>Parses an attribute message of the object at <paramref name="objectPath"/>.</summary>
    public static Hdf5Attribute Parse(Hdf5Reader reader, HeaderMessage message, string objectPath)
    {
        var body = message.Body.Span;
        long at = message.FileOffset;
        if (body.Length < 8) throw reader.Corrupt(objectPath, at, "attribute message is too short.");
        int version = body[0];
        if (version is < 1 or > 3) throw reader.Corrupt(objectPath, at, $"attribute message version {version} is unknown.");
        if (version >= 2 && (body[1] & 0x03) != 0)
            throw new NotSupportedException($"{reader.FileName}: {objectPath}: attributes with shared (committed) datatypes or dataspaces are not supported.");
        int nameSize = BinaryPrimitives.ReadUInt16LittleEndian(body[2..]);
        int typeSize = BinaryPrimitives.ReadUInt16LittleEndian(body[4..]);
        int spaceSize = BinaryPrimitives.ReadUInt16LittleEndian(body[6..]);
        // Version 1 pads each part to a multiple of 8 bytes; version 3 adds a character-set byte.
        Func<int, int> pad = version == 1 ? n => (n + 7) & ~7 : n => n;
        int position = version == 3 ? 9 : 8;
        if (nameSize == 0 || (long)position + pad(nameSize) + pad(typeSize) + pad(spaceSize) > body.Length)
            throw reader.Corrupt(objectPath, at, "attribute message parts run past the message.");
        var nameBytes = body.Slice(position, nameSize);
        int nul = nameBytes.IndexOf((byte)0);
        string name = Encoding.UTF8.GetString(nul >= 0 ? nameBytes[..nul] : nameBytes);
        position += pad(nameSize);
        string path = $"{objectPath} attribute '{name}'";
        var type = Hdf5Datatype.Parse(reader, body.Slice(position, typeSize), at + position, path);
        position += pad(typeSize);
        var space = Hdf5Dataspace.Parse(reader, body.Slice(position, spaceSize), at + position, path);
        position += pad(spaceSize);
        long remaining = body.Length - position;
        if (space.ElementCount > remaining / type.Size)
            throw reader.Corrupt(path, at, $"{space.ElementCount} elements of {type.Size} bytes do not fit in the {remaining} bytes of the message.");
        int dataSize = (int)(space.ElementCount * type.Size);
        return new Hdf5Attribute(name, type, space, message.Body.Slice(position, dataSize), at + position);
    }
}
