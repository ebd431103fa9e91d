using ILGPU;

namespace NativeCnn.Backends.Ilgpu.Kernels;

/// <summary>The geometry of a windowed or resampling op on NHWC tensors, one kernel argument.</summary>
internal struct WindowParams
{
    public int Batch, InHeight, InWidth, Channels, OutHeight, OutWidth;
    public int PoolHeight, PoolWidth, StrideHeight, StrideWidth, PadTop, PadLeft;
    /// <summary>Pooling: 1 for max.</summary>
    public int IsMax;
    /// <summary>Max pooling: the window's cells before unreachable taps were dropped; fewer cells inside means padding, read as 0.</summary>
    public int PaddedCellsAreZerosArea;
    /// <summary>Up-sampling: 1 for bilinear.</summary>
    public int Bilinear;
    /// <summary>Up-sampling: the height and width factors.</summary>
    public int HeightFactor, WidthFactor;
    /// <summary>Permute: the three output sample dimensions (leading 1s pad lower ranks) and their strides in the input sample.</summary>
    public int OutDim0, OutDim1, OutDim2, InStride0, InStride1, InStride2, SampleLength;
    /// <summary>Concatenate: the slice length an input contributes per outer index, the output's, and the input's offset in it.</summary>
    public int InnerLength, OuterStride, Offset, Count;
}

/// <summary>One thread per output value, channels fastest; launch 1-D over the output.</summary>
internal static class WindowKernels
{
    /// <summary>
    /// Max or average pooling. Padded cells are skipped, never read as zeros, so the average divides by the cells inside
    /// the input (TensorFlow SAME, Keras), unless <see cref="WindowParams.PaddedCellsAreZerosArea"/> says a folded
    /// ZeroPadding2D made them zeros.
    /// </summary>
    public static void Pooling2D(ArrayView<float> input, ArrayView<float> output, WindowParams p)
    {
        int i = Grid.GlobalIndex.X;
        if (i >= p.Batch * p.OutHeight * p.OutWidth * p.Channels) return;
        NhwcIndex.Position(i, p.OutHeight, p.OutWidth, p.Channels, out int n, out int oy, out int ox, out int c);
        bool isMax = p.IsMax != 0;
        float acc = isMax ? -float.MaxValue : 0f;
        int cells = 0;
        for (int py = 0; py < p.PoolHeight; ++py)
        {
            int iy = oy * p.StrideHeight - p.PadTop + py;
            if (iy < 0 || iy >= p.InHeight) continue;
            for (int px = 0; px < p.PoolWidth; ++px)
            {
                int ix = ox * p.StrideWidth - p.PadLeft + px;
                if (ix < 0 || ix >= p.InWidth) continue;
                float v = input[((n * p.InHeight + iy) * p.InWidth + ix) * p.Channels + c];
                acc = isMax ? MathF.Max(acc, v) : acc + v;
                ++cells;
            }
        }
        if (isMax && cells < p.PaddedCellsAreZerosArea) acc = MathF.Max(acc, 0f);
        output[i] = isMax ? acc : acc / (cells > 0 ? cells : 1);
    }

    /// <summary>Zero padding (PadTop/PadLeft non-negative) or cropping (negative PadTop/PadLeft: rows and columns skipped).</summary>
    public static void PadOrCrop(ArrayView<float> input, ArrayView<float> output, WindowParams p)
    {
        int i = Grid.GlobalIndex.X;
        if (i >= p.Batch * p.OutHeight * p.OutWidth * p.Channels) return;
        NhwcIndex.Position(i, p.OutHeight, p.OutWidth, p.Channels, out int n, out int oy, out int ox, out int c);
        int iy = oy - p.PadTop, ix = ox - p.PadLeft;
        output[i] = iy >= 0 && iy < p.InHeight && ix >= 0 && ix < p.InWidth ? input[((n * p.InHeight + iy) * p.InWidth + ix) * p.Channels + c] : 0f;
    }

    /// <summary>Copies one input of a concatenation into its slice of the output: <c>Count</c> values, <c>InnerLength</c> per outer index.</summary>
    public static void ConcatenateSlice(ArrayView<float> input, ArrayView<float> output, WindowParams p)
    {
        int i = Grid.GlobalIndex.X;
        if (i >= p.Count) return;
        int outer = i / p.InnerLength, inner = i % p.InnerLength;
        output[outer * p.OuterStride + p.Offset + inner] = input[i];
    }

    /// <summary>Nearest-neighbour up-sampling: output pixel <c>(y, x)</c> is input pixel <c>(y / fh, x / fw)</c>.</summary>
    public static void UpSampleNearest(ArrayView<float> input, ArrayView<float> output, WindowParams p)
    {
        int i = Grid.GlobalIndex.X;
        if (i >= p.Batch * p.OutHeight * p.OutWidth * p.Channels) return;
        NhwcIndex.Position(i, p.OutHeight, p.OutWidth, p.Channels, out int n, out int oy, out int ox, out int c);
        output[i] = input[((n * p.InHeight + oy / p.HeightFactor) * p.InWidth + ox / p.WidthFactor) * p.Channels + c];
    }

    /// <summary>
    /// TensorFlow's half-pixel bilinear up-sampling. <paramref name="rowAxis"/> and <paramref name="columnAxis"/> hold, per
    /// output index, the lower input index, the upper one and the upper's weight (the CPU's <c>BilinearAxis</c>, computed
    /// once on the host so the GPU cannot round the positions differently). Each product and sum is rounded on its own.
    /// </summary>
    public static void UpSampleBilinear(ArrayView<float> input, ArrayView<float> rowAxis, ArrayView<float> columnAxis,
        ArrayView<float> output, WindowParams p)
    {
        int i = Grid.GlobalIndex.X;
        if (i >= p.Batch * p.OutHeight * p.OutWidth * p.Channels) return;
        NhwcIndex.Position(i, p.OutHeight, p.OutWidth, p.Channels, out int n, out int oy, out int ox, out int c);
        int top = (n * p.InHeight + (int)rowAxis[3 * oy]) * p.InWidth, bottom = (n * p.InHeight + (int)rowAxis[3 * oy + 1]) * p.InWidth;
        int left = (int)columnAxis[3 * ox], right = (int)columnAxis[3 * ox + 1];
        float wy = rowAxis[3 * oy + 2], wx = columnAxis[3 * ox + 2];
        float topLeft = input[(top + left) * p.Channels + c], topRight = input[(top + right) * p.Channels + c];
        float bottomLeft = input[(bottom + left) * p.Channels + c], bottomRight = input[(bottom + right) * p.Channels + c];
        float upper = topLeft + (topRight - topLeft) * wx;
        float lower = bottomLeft + (bottomRight - bottomLeft) * wx;
        output[i] = upper + (lower - upper) * wy;
    }

    /// <summary>Permute: output value <c>(n, i0, i1, i2)</c> reads the input sample at <c>i0·s0 + i1·s1 + i2·s2</c>.</summary>
    public static void Permute(ArrayView<float> input, ArrayView<float> output, WindowParams p)
    {
        int i = Grid.GlobalIndex.X;
        if (i >= p.Count) return;
        int i2 = i % p.OutDim2, rest = i / p.OutDim2;
        int i1 = rest % p.OutDim1;
        rest /= p.OutDim1;
        int i0 = rest % p.OutDim0, n = rest / p.OutDim0;
        output[i] = input[n * p.SampleLength + i0 * p.InStride0 + i1 * p.InStride1 + i2 * p.InStride2];
    }
}
