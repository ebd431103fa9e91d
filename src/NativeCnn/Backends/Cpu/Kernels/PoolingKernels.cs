namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Shapes and window arithmetic of one NHWC pooling; padded cells are ignored, not zeros.</summary>
public readonly record struct Pooling2DParams(
    int Batch, int InputHeight, int InputWidth, int Channels,
    int OutputHeight, int OutputWidth,
    int PoolHeight, int PoolWidth, int StrideHeight, int StrideWidth, int PadTop, int PadLeft)
{
    /// <summary>Work rows: <c>Batch * OutputHeight</c>.</summary>
    public int RowCount => Batch * OutputHeight;
}

/// <summary>Shapes of one NHWC zero padding.</summary>
public readonly record struct ZeroPadding2DParams(int Batch, int InputHeight, int InputWidth, int Channels, Padding2D Padding)
{
    /// <summary>Output height.</summary>
    public int OutputHeight => InputHeight + Padding.Top + Padding.Bottom;

    /// <summary>Output width.</summary>
    public int OutputWidth => InputWidth + Padding.Left + Padding.Right;

    /// <summary>Work rows: <c>Batch * OutputHeight</c>.</summary>
    public int RowCount => Batch * OutputHeight;
}

/// <summary>NHWC pooling and padding kernels, vectorized over channels.</summary>
public static class PoolingKernels
{
    /// <summary>Max over each window of in-bounds cells; output rows <paramref name="rows"/> of <c>batch × outputHeight</c>.</summary>
    public static void MaxPool(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows)
        => throw new NotImplementedException("assigned: elementwise kernels helper");

    /// <summary>Mean over each window of in-bounds cells (TensorFlow divides by the count of in-bounds cells).</summary>
    public static void AveragePool(ReadOnlySpan<float> input, Span<float> output, in Pooling2DParams p, RowRange rows)
        => throw new NotImplementedException("assigned: elementwise kernels helper");

    /// <summary>Copies the input into the middle of a zero border; output rows <paramref name="rows"/> of <c>batch × outputHeight</c>.</summary>
    public static void ZeroPad(ReadOnlySpan<float> input, Span<float> output, in ZeroPadding2DParams p, RowRange rows)
        => throw new NotImplementedException("assigned: elementwise kernels helper");

    /// <summary>
    /// Mean over all <paramref name="pixels"/> of one image: <c>output[c] = Σ_p input[p, c] / pixels</c>, summed in
    /// float32 lanes per channel. <c>output.Length</c> is the channel count.
    /// </summary>
    public static void GlobalAveragePool(ReadOnlySpan<float> input, Span<float> output, int pixels)
        => throw new NotImplementedException("assigned: elementwise kernels helper");

    /// <summary>Max over all <paramref name="pixels"/> of one image; <c>output.Length</c> is the channel count.</summary>
    public static void GlobalMaxPool(ReadOnlySpan<float> input, Span<float> output, int pixels)
        => throw new NotImplementedException("assigned: elementwise kernels helper");
}
