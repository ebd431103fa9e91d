namespace NativeCnn.Weights.SafeTensors;

/// <summary>One tensor entry of a safetensors header, after validation.</summary>
/// <param name="Name">The tensor name (the header key), e.g. a Keras weight path such as <c>conv1/kernel</c>.</param>
/// <param name="DType">The safetensors dtype as written in the header: <c>F32</c>, <c>F16</c>, <c>BF16</c>, <c>I64</c>, ...</param>
/// <param name="Shape">The dimensions, row-major; empty for a scalar.</param>
/// <param name="DataBegin">Start of the tensor's bytes, relative to the start of the data section.</param>
/// <param name="DataEnd">End (exclusive) of the tensor's bytes, relative to the start of the data section.</param>
/// <param name="FileOffset">Absolute byte offset of the tensor's first byte in the file.</param>
public sealed record SafeTensorInfo(string Name, string DType, int[] Shape, long DataBegin, long DataEnd, long FileOffset)
{
    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (int dim in Shape) count *= dim;
            return count;
        }
    }

    /// <summary>Number of bytes the tensor occupies in the data section.</summary>
    public long ByteLength => DataEnd - DataBegin;
}
