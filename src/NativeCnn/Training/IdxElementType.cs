namespace NativeCnn.Training;

/// <summary>The element types of the IDX format (the third byte of the magic number).</summary>
public enum IdxElementType : byte
{
    /// <summary>0x08: unsigned byte (MNIST and Fashion-MNIST images and labels).</summary>
    UInt8 = 0x08,
    /// <summary>0x09: signed byte.</summary>
    Int8 = 0x09,
    /// <summary>0x0B: big-endian 16-bit integer.</summary>
    Int16 = 0x0B,
    /// <summary>0x0C: big-endian 32-bit integer.</summary>
    Int32 = 0x0C,
    /// <summary>0x0D: big-endian float32.</summary>
    Float32 = 0x0D,
    /// <summary>0x0E: big-endian float64.</summary>
    Float64 = 0x0E,
}
