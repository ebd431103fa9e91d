using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Gradients of the NHWC poolings of <see cref="PoolingKernels"/>, vectorized over channels. The window poolings
/// gather, for each input pixel, from the output windows that cover it, so they are split by input rows (no two
/// threads write one value, whatever the overlap of the windows) and need no saved argmax.
/// </summary>
/// <remarks>
/// <para>
/// Max pooling routes each output's gradient to the first maximum of its window in row-major order (the window's first
/// cell, replaced only by a strictly greater one): TensorFlow's CPU <c>MaxPoolGrad</c> (<c>SpatialMaxPoolWithArgMaxHelper</c>
/// keeps a cell unless <c>max &lt; cell</c>) and PyTorch's CPU <c>max_pool2d</c> backward both do (checked in PyTorch 1.13:
/// ties go to the first maximum). A NaN first cell stays the maximum, as in TensorFlow. With
/// <see cref="Pooling2DParams.PaddedCellsAreZeros"/> a padded zero takes part in the scan at its place and, if it wins,
/// takes the gradient away (it is no input).
/// </para>
/// <para>
/// Global max pooling is Keras's <c>ops.max</c> over the pixels, whose TensorFlow gradient (<c>_MaxGrad</c> of a
/// reduction) splits <c>dOut</c> evenly over all the pixels equal to the maximum; it is not the first-maximum rule of
/// the window pooling. Average pooling divides by the count of in-bounds cells, as the forward pass (Keras/TensorFlow
/// 'same' excludes the padding).
/// </para>
/// </remarks>
public static class PoolingBackwardKernels
{
    /// <summary>The work rows of the window poolings' backward: <c>batch · inputHeight</c>.</summary>
    public static int InputRowCount(in Pooling2DParams p) => checked(p.Batch * p.InputHeight);

    /// <summary>
    /// Computes input rows <paramref name="inputRows"/> of <c>inputGradient[n, iy, ix, c] = Σ outputGradient[n, oy, ox, c]</c>
    /// over the windows whose first maximum (row-major) is input pixel <c>(iy, ix)</c>.
    /// </summary>
    /// <param name="input">The forward input, NHWC.</param>
    /// <param name="outputGradient">NHWC <c>(batch, outputHeight, outputWidth, channels)</c>.</param>
    /// <param name="inputGradient">NHWC, overwritten in <paramref name="inputRows"/>.</param>
    /// <param name="p">The forward pooling's shapes and window arithmetic.</param>
    /// <param name="inputRows">Input rows to compute; disjoint ranges write disjoint values.</param>
    /// <param name="width">The SIMD width (<see cref="SimdWidth.Auto"/>: <see cref="SimdDispatch.Best"/>).</param>
    /// <exception cref="ArgumentException">The window arithmetic is out of range or a span is shorter than the shapes need.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputRows"/> is outside <c>[0, batch · inputHeight]</c>.</exception>
    public static void MaxPool(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, in Pooling2DParams p,
                               RowRange inputRows, SimdWidth width = SimdWidth.Auto)
    {
        Check(input.Length, outputGradient.Length, inputGradient.Length, in p, inputRows);
        var body = new WindowKernel { Input = input, OutputGradient = outputGradient, InputGradient = inputGradient, Params = p, Rows = inputRows, Max = true };
        SimdDispatch.Run(width, ref body);
    }

    /// <summary>
    /// Computes input rows <paramref name="inputRows"/> of <c>inputGradient[n, iy, ix, c] = Σ outputGradient[n, oy, ox, c] / count(oy, ox)</c>
    /// over the windows that cover <c>(iy, ix)</c>, <c>count</c> being the window's in-bounds cells.
    /// </summary>
    /// <param name="outputGradient">NHWC <c>(batch, outputHeight, outputWidth, channels)</c>.</param>
    /// <param name="inputGradient">NHWC, overwritten in <paramref name="inputRows"/>.</param>
    /// <param name="p">The forward pooling's shapes and window arithmetic.</param>
    /// <param name="inputRows">Input rows to compute.</param>
    /// <param name="width">The SIMD width.</param>
    /// <exception cref="ArgumentException">The window arithmetic is out of range, <see cref="Pooling2DParams.PaddedCellsAreZeros"/> is set, or a span is shorter than the shapes need.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputRows"/> is outside <c>[0, batch · inputHeight]</c>.</exception>
    public static void AveragePool(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, in Pooling2DParams p, RowRange inputRows,
                                   SimdWidth width = SimdWidth.Auto)
    {
        if (p.PaddedCellsAreZeros) throw new ArgumentException("padded cells count as zeros only for max pooling", nameof(p));
        Check(inputGradient.Length, outputGradient.Length, inputGradient.Length, in p, inputRows);
        var body = new WindowKernel { OutputGradient = outputGradient, InputGradient = inputGradient, Params = p, Rows = inputRows, Max = false };
        SimdDispatch.Run(width, ref body);
    }

    /// <summary>
    /// Global average pooling of one image: <c>inputGradient[p, c] = outputGradient[c] / pixels</c> (a true division, as
    /// the forward mean). <c>outputGradient.Length</c> is the channel count.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="inputGradient"/> is not <c>pixels · channels</c> long.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pixels"/> is below 1.</exception>
    public static void GlobalAveragePool(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int pixels)
    {
        CheckGlobal(inputGradient.Length, outputGradient.Length, pixels, nameof(inputGradient));
        int channels = outputGradient.Length;
        for (int p = 0; p < pixels; p++)
        {
            var row = inputGradient.Slice(p * channels, channels);
            for (int c = 0; c < channels; c++) row[c] = outputGradient[c] / pixels;
        }
    }

    /// <summary>
    /// Global max pooling of one image: <c>inputGradient[p, c] = input[p, c] == output[c] ? outputGradient[c] · (1 / ties[c]) : 0</c>,
    /// <c>ties[c]</c> the number of pixels equal to the maximum (TensorFlow's reduction gradient: ties share evenly).
    /// </summary>
    /// <param name="input">The forward input of the image, <c>(pixels, channels)</c>.</param>
    /// <param name="output">The forward output (the maxima), <c>(channels)</c>.</param>
    /// <param name="outputGradient"><c>(channels)</c>.</param>
    /// <param name="inputGradient"><c>(pixels, channels)</c>, overwritten.</param>
    /// <param name="pixels">Pixels of the image.</param>
    /// <param name="width">The SIMD width.</param>
    /// <exception cref="ArgumentException">The lengths do not match.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pixels"/> is below 1.</exception>
    public static void GlobalMaxPool(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient,
                                     Span<float> inputGradient, int pixels, SimdWidth width = SimdWidth.Auto)
    {
        CheckGlobal(input.Length, output.Length, pixels, nameof(input));
        CheckGlobal(inputGradient.Length, output.Length, pixels, nameof(inputGradient));
        if (outputGradient.Length != output.Length)
            throw new ArgumentException($"outputGradient has {outputGradient.Length} elements, expected {output.Length}", nameof(outputGradient));
        var body = new GlobalMaxKernel { Input = input, Output = output, OutputGradient = outputGradient, InputGradient = inputGradient, Pixels = pixels };
        SimdDispatch.Run(width, ref body);
    }

    private ref struct WindowKernel : ISimdKernel, BackwardLoops.IChannelBody
    {
        public ReadOnlySpan<float> Input, OutputGradient;
        public Span<float> InputGradient;
        public Pooling2DParams Params;
        public RowRange Rows;
        public bool Max;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => BackwardLoops.VectorsThenScalars<WindowKernel, TLanes, TVector>(this, Params.Channels);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Body<TLanes, TVector>(int c0, int c1) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            if (c0 == c1) return;
            var p = Params;
            int lanes = TLanes.Count, channels = p.Channels;
            ref float x0 = ref MemoryMarshal.GetReference(Input);
            ref float dy0 = ref MemoryMarshal.GetReference(OutputGradient);
            ref float dx0 = ref MemoryMarshal.GetReference(InputGradient);
            var ones = TLanes.Equal(TLanes.Zero, TLanes.Zero);
            for (int row = Rows.Start; row < Rows.End; row++)
            {
                int n = row / p.InputHeight, iy = row - n * p.InputHeight;
                // Output rows whose window [oy·s − pad, oy·s − pad + pool) holds iy.
                int oy0 = Math.Max(0, CeilDiv(iy + p.PadTop - p.PoolHeight + 1, p.StrideHeight)), oy1 = Math.Min(p.OutputHeight, (iy + p.PadTop) / p.StrideHeight + 1);
                for (int ix = 0; ix < p.InputWidth; ix++)
                {
                    int ox0 = Math.Max(0, CeilDiv(ix + p.PadLeft - p.PoolWidth + 1, p.StrideWidth)), ox1 = Math.Min(p.OutputWidth, (ix + p.PadLeft) / p.StrideWidth + 1);
                    ref float dx = ref Unsafe.Add(ref dx0, ((nint)row * p.InputWidth + ix) * channels);
                    for (int ch = c0; ch < c1; ch += lanes)
                    {
                        var acc = TLanes.Zero;
                        for (int oy = oy0; oy < oy1; oy++)
                        {
                            for (int ox = ox0; ox < ox1; ox++)
                            {
                                var g = TLanes.Load(ref dy0, (nuint)((((nint)n * p.OutputHeight + oy) * p.OutputWidth + ox) * channels + ch));
                                if (Max)
                                {
                                    var hit = WindowArgMaxIs<TLanes, TVector>(ref x0, in p, n, oy, ox, iy, ix, ch, ones);
                                    acc = TLanes.Add(acc, TLanes.Select(hit, g, TLanes.Zero));
                                }
                                else
                                {
                                    acc = TLanes.Add(acc, TLanes.Divide(g, TLanes.Create(InBoundsCells(in p, oy, ox))));
                                }
                            }
                        }
                        TLanes.Store(ref dx, (nuint)ch, acc);
                    }
                }
            }
        }
    }

    /// <summary>
    /// The mask of the lanes whose window <c>(oy, ox)</c> has its first row-major maximum at input pixel <c>(iy, ix)</c>:
    /// the scan starts from the first cell and moves on only where <c>max &lt; cell</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector WindowArgMaxIs<TLanes, TVector>(ref float x0, in Pooling2DParams p, int n, int oy, int ox, int iy, int ix, int ch, TVector ones)
        where TLanes : struct, ILanes<TVector> where TVector : unmanaged
    {
        int h0 = oy * p.StrideHeight - p.PadTop, w0 = ox * p.StrideWidth - p.PadLeft;
        int hStart = h0, hEnd = h0 + p.PoolHeight, wStart = w0, wEnd = w0 + p.PoolWidth;
        if (!p.PaddedCellsAreZeros)
        {
            hStart = Math.Max(hStart, 0);
            wStart = Math.Max(wStart, 0);
            hEnd = Math.Min(hEnd, p.InputHeight);
            wEnd = Math.Min(wEnd, p.InputWidth);
        }
        TVector max = TLanes.Zero, hit = TLanes.Zero;
        bool first = true;
        for (int h = hStart; h < hEnd; h++)
        {
            for (int w = wStart; w < wEnd; w++)
            {
                bool inside = (uint)h < (uint)p.InputHeight && (uint)w < (uint)p.InputWidth;
                var v = inside ? TLanes.Load(ref x0, (nuint)((((nint)n * p.InputHeight + h) * p.InputWidth + w) * p.Channels + ch)) : TLanes.Zero;
                var here = h == iy && w == ix ? ones : TLanes.Zero;
                if (first)
                {
                    max = v;
                    hit = here;
                    first = false;
                    continue;
                }
                var greater = TLanes.LessThan(max, v);
                max = TLanes.Select(greater, v, max);
                hit = TLanes.Select(greater, here, hit);
            }
        }
        return hit;
    }

    private static int InBoundsCells(in Pooling2DParams p, int oy, int ox)
    {
        int h0 = oy * p.StrideHeight - p.PadTop, w0 = ox * p.StrideWidth - p.PadLeft;
        int rows = Math.Min(h0 + p.PoolHeight, p.InputHeight) - Math.Max(h0, 0);
        int columns = Math.Min(w0 + p.PoolWidth, p.InputWidth) - Math.Max(w0, 0);
        return rows * columns;
    }

    private ref struct GlobalMaxKernel : ISimdKernel, BackwardLoops.IChannelBody
    {
        public ReadOnlySpan<float> Input, Output, OutputGradient;
        public Span<float> InputGradient;
        public int Pixels;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
            => BackwardLoops.VectorsThenScalars<GlobalMaxKernel, TLanes, TVector>(this, Output.Length);

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Body<TLanes, TVector>(int c0, int c1) where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            int lanes = TLanes.Count, channels = Output.Length;
            ref float x0 = ref MemoryMarshal.GetReference(Input);
            ref float y = ref MemoryMarshal.GetReference(Output);
            ref float dy = ref MemoryMarshal.GetReference(OutputGradient);
            ref float dx0 = ref MemoryMarshal.GetReference(InputGradient);
            for (int ch = c0; ch < c1; ch += lanes)
            {
                var max = TLanes.Load(ref y, (nuint)ch);
                var ties = TLanes.Zero;
                for (int p = 0; p < Pixels; p++)
                    ties = TLanes.Add(ties, TLanes.Select(TLanes.Equal(TLanes.Load(ref x0, (nuint)((nint)p * channels + ch)), max), TLanes.One, TLanes.Zero));
                // TensorFlow: (indicators / ties) · dy.
                var share = TLanes.Multiply(TLanes.Divide(TLanes.One, ties), TLanes.Load(ref dy, (nuint)ch));
                for (int p = 0; p < Pixels; p++)
                {
                    nuint at = (nuint)((nint)p * channels + ch);
                    TLanes.Store(ref dx0, at, TLanes.Select(TLanes.Equal(TLanes.Load(ref x0, at), max), share, TLanes.Zero));
                }
            }
        }
    }

    private static int CeilDiv(int a, int b) => a <= 0 ? -(-a / b) : (a + b - 1) / b;

    private static void Check(int inputLength, int outputGradientLength, int inputGradientLength, in Pooling2DParams p, RowRange rows)
    {
        // As the forward pass (a window wholly in ignored padding would have no cell), and the input rows split here fit too.
        PoolingKernels.CheckWindow(p);
        WindowChecks.Rows(p.Batch, p.InputHeight, p);
        long inputCount = WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.Channels);
        BackwardLoops.CheckLength(inputLength, inputCount, "input");
        BackwardLoops.CheckLength(outputGradientLength, WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.Channels), "outputGradient");
        BackwardLoops.CheckLength(inputGradientLength, inputCount, "inputGradient");
        BackwardLoops.CheckRows(rows, (long)p.Batch * p.InputHeight, "inputRows");
    }

    private static void CheckGlobal(int length, int channels, int pixels, string name)
    {
        if (pixels <= 0) throw new ArgumentOutOfRangeException(nameof(pixels), pixels, "a global pool needs at least one pixel");
        if (length != (long)pixels * channels) throw new ArgumentException($"{name} has {length} elements, expected {(long)pixels * channels} ({pixels} x {channels})", name);
    }
}
