namespace NativeCnn.Weights.Hdf5;

/// <summary>A parsed dataspace message: the shape (empty for a scalar) and the element count (0 for a null dataspace).</summary>
internal sealed record Hdf5Dataspace(long[] Shape, long ElementCount)
{
    // HDF5 itself limits rank to 32.
    private const int MaxRank = 32;

    /// <summary>Parses a dataspace message body (version 1 or 2).</summary>
    public static Hdf5Dataspace Parse(Hdf5Reader reader, ReadOnlySpan<byte> body, long fileOffset, string objectPath)
    {
        if (body.Length < 4) throw reader.Corrupt(objectPath, fileOffset, "dataspace message is too short.");
        int version = body[0];
        int rank = body[1];
        int position;
        switch (version)
        {
            case 1:
                position = 8;
                break;
            case 2:
                if (body[3] == 2) return new Hdf5Dataspace([], 0); // null dataspace: no elements at all
                if (body[3] > 2) throw reader.Corrupt(objectPath, fileOffset + 3, $"dataspace type {body[3]} is unknown.");
                position = 4;
                break;
            default:
                throw reader.Corrupt(objectPath, fileOffset, $"dataspace message version {version} is unknown.");
        }
        if (rank > MaxRank) throw reader.Corrupt(objectPath, fileOffset + 1, $"dataspace rank {rank} exceeds {MaxRank}.");
        int l = reader.LengthSize;
        if (body.Length < position + rank * l) throw reader.Corrupt(objectPath, fileOffset, $"dataspace message is too short for rank {rank}.");
        var shape = new long[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            ulong dimension = Hdf5Reader.ReadUnsigned(body[(position + i * l)..], l);
            if (dimension > long.MaxValue) throw reader.Corrupt(objectPath, fileOffset + position + i * l, $"dimension {dimension} is too large.");
            shape[i] = (long)dimension;
            count = dimension == 0 || count == 0 ? 0
                : count > long.MaxValue / (long)dimension
                    ? throw reader.Corrupt(objectPath, fileOffset, "the dataspace's element count overflows.")
                    : count * (long)dimension;
        }
        return new Hdf5Dataspace(shape, count);
    }
}
