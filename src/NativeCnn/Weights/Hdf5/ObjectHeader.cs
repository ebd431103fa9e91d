using System.Buffers.Binary;

namespace NativeCnn.Weights.Hdf5;

/// <summary>One header message: its type, flags and body, and where the body starts in the file.</summary>
internal readonly record struct HeaderMessage(int Type, byte Flags, ReadOnlyMemory<byte> Body, long FileOffset)
{
    /// <summary>Message flag bit: the body is a reference to a shared message stored elsewhere.</summary>
    public bool IsShared => (Flags & 0x02) != 0;
}

/// <summary>
/// An object header (version 1, or version 2 <c>OHDR</c>) flattened into its list of messages, continuation blocks
/// followed. The number of blocks and their total size are capped, and each block is visited once, so a corrupt
/// continuation chain (a loop, or a huge fan-out) ends with an error instead of a hang.
/// </summary>
/// <remarks>
/// One instance exists per header address (see <see cref="Hdf5Reader.Header"/>), so what is parsed from it (its
/// attributes, a group's links) is kept here and shared by every hard link to the object.
/// </remarks>
internal sealed class ObjectHeader
{
    public const int Nil = 0x00;
    public const int Dataspace = 0x01;
    public const int LinkInfo = 0x02;
    public const int Datatype = 0x03;
    public const int FillValueOld = 0x04;
    public const int FillValue = 0x05;
    public const int Link = 0x06;
    public const int ExternalFiles = 0x07;
    public const int Layout = 0x08;
    public const int FilterPipeline = 0x0B;
    public const int Attribute = 0x0C;
    public const int Continuation = 0x10;
    public const int SymbolTable = 0x11;
    public const int AttributeInfo = 0x15;

    private const int MaxBlocks = 1024;
    private const long MaxTotalBytes = 64L << 20;

    // What one parsed message costs in memory beyond its body bytes (a HeaderMessage in the list), charged to the budget
    // because a block of empty messages would otherwise decode to several times its size.
    private const long MessageCost = 48;

    private ObjectHeader(long address, List<HeaderMessage> messages)
    {
        Address = address;
        Messages = messages;
    }

    /// <summary>The file offset of the header.</summary>
    public long Address { get; }

    /// <summary>Every message except NIL and continuation messages, in file order.</summary>
    public IReadOnlyList<HeaderMessage> Messages { get; }

    /// <summary>The attributes, once an <see cref="Hdf5Object"/> at this address has parsed them.</summary>
    public List<Hdf5Attribute>? Attributes { get; set; }

    /// <summary>A group's links (name and object header address), once a <see cref="Hdf5Group"/> at this address has read them.</summary>
    public List<(string Name, long Address)>? Links { get; set; }

    /// <summary>The first message of <paramref name="type"/>, or null.</summary>
    public HeaderMessage? Find(int type)
    {
        foreach (var message in Messages)
            if (message.Type == type) return message;
        return null;
    }

    /// <summary>Reads the object header at <paramref name="address"/>; use <see cref="Hdf5Reader.Header"/>, which caches it.</summary>
    public static ObjectHeader Read(Hdf5Reader reader, long address, string objectPath)
    {
        reader.CheckRange(address, 16, objectPath, "object header");
        Span<byte> prefix = stackalloc byte[16];
        reader.ReadInto(address, prefix);
        var messages = new List<HeaderMessage>();
        var blocks = new Queue<(long Offset, long Length)>();
        var visited = new HashSet<long>();
        bool version2 = prefix[..4].SequenceEqual("OHDR"u8);
        bool creationOrder = false;
        if (version2)
        {
            if (prefix[4] != 2) throw reader.Corrupt(objectPath, address + 4, $"object header version {prefix[4]} is unknown (expected 2 after OHDR).");
            byte flags = prefix[5];
            creationOrder = (flags & 0x04) != 0;
            int position = 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
            int sizeBytes = 1 << (flags & 3);
            var sizeField = reader.ReadBytes(address + position, sizeBytes, objectPath, "object header chunk size");
            ulong chunkSize = Hdf5Reader.ReadUnsigned(sizeField, sizeBytes);
            long start = address + position + sizeBytes;
            // The chunk is followed by a 4-byte checksum, which this reader does not verify.
            if (chunkSize > (ulong)reader.Length) throw reader.Corrupt(objectPath, start, $"object header chunk size {chunkSize} exceeds the file.");
            blocks.Enqueue((start, (long)chunkSize));
        }
        else
        {
            if (prefix[0] != 1)
                throw reader.Corrupt(objectPath, address, $"object header version {prefix[0]} is unknown (expected 1, or 2 with an OHDR signature).");
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
            blocks.Enqueue((address + 16, size));
        }

        long totalBytes = 0;
        bool first = true;
        while (blocks.Count > 0)
        {
            var (offset, length) = blocks.Dequeue();
            if (!visited.Add(offset)) throw reader.Corrupt(objectPath, offset, "object header continuation blocks form a loop.");
            if (visited.Count > MaxBlocks) throw reader.Corrupt(objectPath, offset, $"object header has more than {MaxBlocks} continuation blocks.");
            totalBytes += length;
            if (totalBytes > MaxTotalBytes) throw reader.Corrupt(objectPath, offset, "object header is implausibly large.");
            long bodyStart = offset;
            long bodyLength = length;
            if (version2 && !first)
            {
                // A version 2 continuation block is "OCHK", the messages, then a 4-byte checksum.
                var signature = reader.ReadBytes(offset, 4, objectPath, "object header continuation block");
                if (!signature.AsSpan().SequenceEqual("OCHK"u8))
                    throw reader.Corrupt(objectPath, offset, "object header continuation block has no OCHK signature.");
                bodyStart += 4;
                bodyLength -= 8;
                if (bodyLength < 0) throw reader.Corrupt(objectPath, offset, $"object header continuation block of {length} bytes is too short.");
            }
            first = false;
            var block = reader.ReadBytes(bodyStart, bodyLength, objectPath, "object header block");
            if (version2) ParseVersion2Messages(reader, block, bodyStart, creationOrder, objectPath, messages, blocks);
            else ParseVersion1Messages(reader, block, bodyStart, objectPath, messages, blocks);
        }
        return new ObjectHeader(address, messages);
    }

    private static void ParseVersion1Messages(Hdf5Reader reader, byte[] block, long blockOffset, string objectPath,
        List<HeaderMessage> messages, Queue<(long, long)> blocks)
    {
        int position = 0;
        while (position + 8 <= block.Length)
        {
            int type = BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(position));
            int size = BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(position + 2));
            byte flags = block[position + 4];
            int body = position + 8;
            if (size > block.Length - body)
                throw reader.Corrupt(objectPath, blockOffset + position, $"header message (type {type:#x}, {size} bytes) runs past its header block.");
            AddMessage(reader, type, flags, block.AsMemory(body, size), blockOffset + body, objectPath, messages, blocks);
            position = body + size;
        }
    }

    private static void ParseVersion2Messages(Hdf5Reader reader, byte[] block, long blockOffset, bool creationOrder, string objectPath,
        List<HeaderMessage> messages, Queue<(long, long)> blocks)
    {
        int headerSize = creationOrder ? 6 : 4;
        int position = 0;
        // Fewer bytes than a message header at the end of a block are a gap, not a message.
        while (position + headerSize <= block.Length)
        {
            int type = block[position];
            int size = BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(position + 1));
            byte flags = block[position + 3];
            int body = position + headerSize;
            if (size > block.Length - body)
                throw reader.Corrupt(objectPath, blockOffset + position, $"header message (type {type:#x}, {size} bytes) runs past its header block.");
            AddMessage(reader, type, flags, block.AsMemory(body, size), blockOffset + body, objectPath, messages, blocks);
            position = body + size;
        }
    }

    private static void AddMessage(Hdf5Reader reader, int type, byte flags, ReadOnlyMemory<byte> body, long bodyOffset, string objectPath,
        List<HeaderMessage> messages, Queue<(long, long)> blocks)
    {
        if (type == Nil) return;
        if (type != Continuation)
        {
            reader.Charge(MessageCost, objectPath, bodyOffset, "a header message");
            messages.Add(new HeaderMessage(type, flags, body, bodyOffset));
            return;
        }
        int o = reader.OffsetSize, l = reader.LengthSize;
        if (body.Length < o + l) throw reader.Corrupt(objectPath, bodyOffset, "continuation message is too short.");
        ulong address = Hdf5Reader.ReadUnsigned(body.Span, o);
        ulong length = Hdf5Reader.ReadUnsigned(body.Span[o..], l);
        long start = reader.ToOffset(address, objectPath, bodyOffset, "continuation block");
        if (length > (ulong)(reader.Length - start))
            throw reader.Corrupt(objectPath, bodyOffset, $"continuation block of {length} bytes at {address} runs past the end of the file.");
        blocks.Enqueue((start, (long)length));
    }
}
