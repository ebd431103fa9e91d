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
        int c = i % p.Channels, rest = i / p.Channels;
        int ox = rest % p.OutWidth;
        rest /= p.OutWidth;
        int oy = rest % p.OutHeight, n = rest / p.OutHeight;
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
        int c = i % p.Channels, rest = i / p.Channels;
        int ox = rest % p.OutWidth;
        rest /= p.OutWidth;
        int oy = rest % p.OutHeight, n = rest / p.OutHeight;
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
}
