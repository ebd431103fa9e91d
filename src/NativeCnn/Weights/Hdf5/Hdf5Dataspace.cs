namespace NativeCnn.Weights.Hdf5;

/// <summary>
/// A parsed dataspace message: the shape (empty for a scalar), the element count (0 for a null dataspace) and the
/// maximum shape (<see cref="Shape"/> itself when the message gives none; <see cref="Unlimited"/> for an unlimited dimension).
/// </summary>
internal sealed record Hdf5Dataspace(long[] Shape, long ElementCount, long[] MaxShape)
{
    /// <summary>The maximum size of an unlimited dimension.</summary>
    public const long Unlimited = long.MaxValue;

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
                if (body[3] == 2) return new Hdf5Dataspace([], 0, []); // null dataspace: no elements at all
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
        var maxShape = shape;
        if ((body[2] & 1) != 0)
        {
            int maxStart = position + rank * l;
            if (body.Length < maxStart + rank * l) throw reader.Corrupt(objectPath, fileOffset, $"dataspace message is too short for {rank} maximum dimensions.");
            maxShape = new long[rank];
            for (int i = 0; i < rank; i++)
            {
                ulong maximum = Hdf5Reader.ReadUnsigned(body[(maxStart + i * l)..], l);
                bool unlimited = l == 8 ? maximum == ulong.MaxValue : maximum == (1UL << (8 * l)) - 1;
                // A maximum below the dimension is corrupt, but only a chunk index reads it: take the larger.
                maxShape[i] = unlimited || maximum > long.MaxValue ? Unlimited : Math.Max((long)maximum, shape[i]);
            }
        }
        return new Hdf5Dataspace(shape, count, maxShape);
    }
}
