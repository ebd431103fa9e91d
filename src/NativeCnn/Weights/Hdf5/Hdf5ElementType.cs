namespace NativeCnn.Weights.Hdf5;

/// <summary>The element type of an HDF5 dataset or attribute, as far as this reader understands it.</summary>
public enum Hdf5ElementType
{
    /// <summary>IEEE 754 half precision (2 bytes).</summary>
    Float16,

    /// <summary>IEEE 754 single precision (4 bytes).</summary>
    Float32,

    /// <summary>IEEE 754 double precision (8 bytes).</summary>
    Float64,

    /// <summary>A signed integer of 1, 2, 4 or 8 bytes.</summary>
    SignedInteger,

    /// <summary>An unsigned integer of 1, 2, 4 or 8 bytes.</summary>
    UnsignedInteger,

    /// <summary>A fixed-length string (h5py 2.x and NumPy <c>S</c> arrays).</summary>
    FixedLengthString,

    /// <summary>A variable-length string kept in the global heap (h5py 3 writes Python <c>str</c> this way).</summary>
    VariableLengthString,
}
