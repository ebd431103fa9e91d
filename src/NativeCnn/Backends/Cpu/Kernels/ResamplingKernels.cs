using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Shapes of an NHWC up-sampling by whole factors (Keras <c>UpSampling2D</c>).</summary>
/// <param name="Batch">Images.</param>
/// <param name="InputHeight">Input rows.</param>
/// <param name="InputWidth">Input columns.</param>
/// <param name="Channels">Channels.</param>
/// <param name="HeightFactor">Output rows per input row.</param>
/// <param name="WidthFactor">Output columns per input column.</param>
public readonly record struct UpSampling2DParams(int Batch, int InputHeight, int InputWidth, int Channels, int HeightFactor, int WidthFactor)
{
    /// <summary>Output height, <c>InputHeight · HeightFactor</c>.</summary>
    public int OutputHeight => InputHeight * HeightFactor;

    /// <summary>Output width, <c>InputWidth · WidthFactor</c>.</summary>
    public int OutputWidth => InputWidth * WidthFactor;

    /// <summary>Work rows: <c>Batch · OutputHeight</c>.</summary>
    public int RowCount => Batch * OutputHeight;
}

/// <summary>
/// One axis of TensorFlow 2's half-pixel bilinear resize: for each output index the two input indices and the weight
/// of the second, computed in float32 exactly as <c>tf.image.resize</c> does (<c>in = (out + 0.5) · scale − 0.5</c> with
/// <c>scale = (float)in_size / out_size</c>; <c>lower = max(floor(in), 0)</c>, <c>upper = min(ceil(in), in_size − 1)</c>,
/// <c>weight = in − floor(in)</c>).
/// </summary>
public sealed class BilinearAxis
{
    /// <summary>Computes the axis for <paramref name="inputSize"/> inputs enlarged <paramref name="factor"/> times.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, or the output size exceeds 32 bits.</exception>
    public BilinearAxis(int inputSize, int factor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        long outputSize = (long)inputSize * factor;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(outputSize, int.MaxValue, nameof(factor));
        Lower = new int[outputSize];
        Upper = new int[outputSize];
        Weight = new float[outputSize];
        float scale = (float)inputSize / outputSize;
        for (int o = 0; o < outputSize; o++)
        {
            float position = (o + 0.5f) * scale - 0.5f;
            float floor = MathF.Floor(position);
            Lower[o] = Math.Max((int)floor, 0);
            Upper[o] = Math.Min((int)MathF.Ceiling(position), inputSize - 1);
            Weight[o] = position - floor;
        }
    }

    /// <summary>The first input index of each output index.</summary>
    public int[] Lower { get; }

    /// <summary>The second input index of each output index.</summary>
    public int[] Upper { get; }

    /// <summary>The weight of the second input, in [0, 1).</summary>
    public float[] Weight { get; }
}

/// <summary>
/// NHWC up-sampling kernels over output rows (<c>batch × outputHeight</c>), so a caller threads them by rows. Nearest
/// copies whole pixels; bilinear is vectorized over channels and written once over <see cref="ILanes{TVector}"/>.
/// </summary>
public static class ResamplingKernels
{
    /// <summary>Nearest-neighbour up-sampling: output pixel <c>(y, x)</c> is input pixel <c>(y / fh, x / fw)</c>.</summary>
    /// <remarks>TensorFlow's half-pixel nearest rule <c>floor((out + 0.5) / factor)</c> is the same index for whole factors.</remarks>
    public static void Nearest(ReadOnlySpan<float> input, Span<float> output, in UpSampling2DParams p, RowRange rows)
    {
        Check(input.Length, output.Length, in p, rows);
        int c = p.Channels, inRow = p.InputWidth * c, outRow = p.OutputWidth * c;
        for (int row = rows.Start; row < rows.End; row++)
        {
            int n = row / p.OutputHeight, y = (row - n * p.OutputHeight) / p.HeightFactor;
            var source = input.Slice((n * p.InputHeight + y) * inRow, inRow);
            var destination = output.Slice(row * outRow, outRow);
            for (int x = 0, o = 0; x < p.InputWidth; x++)
            {
                var pixel = source.Slice(x * c, c);
                for (int k = 0; k < p.WidthFactor; k++, o += c) pixel.CopyTo(destination.Slice(o, c));
            }
        }
    }

    /// <summary>
    /// Bilinear up-sampling with half-pixel centres (<see cref="BilinearAxis"/>): <c>top = tl + (tr − tl) · wx</c>,
    /// <c>bottom = bl + (br − bl) · wx</c>, <c>out = top + (bottom − top) · wy</c>, each product and sum rounded to float32
    /// on its own, as TensorFlow's CPU kernel computes it.
    /// </summary>
    public static void Bilinear(ReadOnlySpan<float> input, Span<float> output, in UpSampling2DParams p, BilinearAxis rowAxis,
                                BilinearAxis columnAxis, RowRange rows, SimdWidth width = SimdWidth.Auto)
    {
        Check(input.Length, output.Length, in p, rows);
        if (rowAxis.Weight.Length != p.OutputHeight || columnAxis.Weight.Length != p.OutputWidth)
            throw new ArgumentException($"the axes cover {rowAxis.Weight.Length} x {columnAxis.Weight.Length} outputs, the shapes need {p.OutputHeight} x {p.OutputWidth}");
        var kernel = new BilinearKernel { Input = input, Output = output, Params = p, RowAxis = rowAxis, ColumnAxis = columnAxis, Rows = rows };
        SimdDispatch.Run(width, ref kernel);
    }

    private ref struct BilinearKernel : ISimdKernel
    {
        public ReadOnlySpan<float> Input;
        public Span<float> Output;
        public UpSampling2DParams Params;
        public BilinearAxis RowAxis, ColumnAxis;
        public RowRange Rows;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            var p = Params;
            int c = p.Channels, inRow = p.InputWidth * c, outRow = p.OutputWidth * c;
            ref readonly float input = ref MemoryMarshal.GetReference(Input);
            ref float output = ref MemoryMarshal.GetReference(Output);
            for (int row = Rows.Start; row < Rows.End; row++)
            {
                int n = row / p.OutputHeight, y = row - n * p.OutputHeight;
                int top = (n * p.InputHeight + RowAxis.Lower[y]) * inRow, bottom = (n * p.InputHeight + RowAxis.Upper[y]) * inRow;
                var wy = TLanes.Create(RowAxis.Weight[y]);
                for (int x = 0; x < p.OutputWidth; x++)
                {
                    int left = ColumnAxis.Lower[x] * c, right = ColumnAxis.Upper[x] * c;
                    var wx = TLanes.Create(ColumnAxis.Weight[x]);
                    nuint o = (nuint)(row * outRow + x * c);
                    // Outputs never alias inputs, so a channel tail is one overlapping vector that recomputes a few channels.
                    if (c >= TLanes.Count)
                    {
                        for (int k = 0; ; k += TLanes.Count)
                        {
                            if (k > c - TLanes.Count) k = c - TLanes.Count;
                            TLanes.Store(ref output, o + (nuint)k, Blend<TLanes, TVector>(in input, top, bottom, left + k, right + k, wx, wy));
                            if (k == c - TLanes.Count) break;
                        }
                    }
                    else
                    {
                        for (int k = 0; k < c; k++)
                            Unsafe.Add(ref output, o + (nuint)k) = Blend<LanesScalar, float>(in input, top, bottom, left + k, right + k, ColumnAxis.Weight[x], RowAxis.Weight[y]);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Blend<TLanes, TVector>(ref readonly float input, int top, int bottom, int left, int right, TVector wx, TVector wy)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        var topLeft = TLanes.Load(in input, (nuint)(top + left));
        var topRight = TLanes.Load(in input, (nuint)(top + right));
        var bottomLeft = TLanes.Load(in input, (nuint)(bottom + left));
        var bottomRight = TLanes.Load(in input, (nuint)(bottom + right));
        // Multiply then add, not a fused multiply-add: TensorFlow rounds the product.
        var upper = TLanes.Add(topLeft, TLanes.Multiply(TLanes.Subtract(topRight, topLeft), wx));
        var lower = TLanes.Add(bottomLeft, TLanes.Multiply(TLanes.Subtract(bottomRight, bottomLeft), wx));
        return TLanes.Add(upper, TLanes.Multiply(TLanes.Subtract(lower, upper), wy));
    }

    private static void Check(int inputLength, int outputLength, in UpSampling2DParams p, RowRange rows)
    {
        if (p.Batch < 0 || p.InputHeight < 0 || p.InputWidth < 0 || p.Channels < 0 || p.HeightFactor < 1 || p.WidthFactor < 1)
            throw new ArgumentException($"invalid up-sampling {p}");
        long outH = (long)p.InputHeight * p.HeightFactor, outW = (long)p.InputWidth * p.WidthFactor;
        if (outH > int.MaxValue || outW > int.MaxValue) throw new ArgumentException($"up-sampling {p} gives {outH} x {outW}, more than 32 bits");
        if (inputLength < WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.Channels))
            throw new ArgumentException($"input has {inputLength} elements, {p} needs more");
        if (outputLength < WindowChecks.Count(p.Batch, (int)outH, (int)outW, p.Channels))
            throw new ArgumentException($"output has {outputLength} elements, {p} needs more");
        if (rows.Start < 0 || rows.End > p.Batch * outH || rows.Start > rows.End)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must lie in [0, {p.Batch * outH})");
    }
}
