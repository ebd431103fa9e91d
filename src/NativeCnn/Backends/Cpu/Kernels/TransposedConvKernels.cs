using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Shapes of an NHWC transposed convolution (see <see cref="Conv2DTransposeOp"/>).</summary>
/// <param name="Batch">Images.</param>
/// <param name="InputHeight">Input rows.</param>
/// <param name="InputWidth">Input columns.</param>
/// <param name="InputChannels">Input channels.</param>
/// <param name="OutputHeight">Output rows.</param>
/// <param name="OutputWidth">Output columns.</param>
/// <param name="Filters">Output channels.</param>
/// <param name="KernelHeight">Kernel rows.</param>
/// <param name="KernelWidth">Kernel columns.</param>
/// <param name="StrideHeight">Row stride.</param>
/// <param name="StrideWidth">Column stride.</param>
/// <param name="PadTop">Rows cut from the top of the full scattered output.</param>
/// <param name="PadLeft">Columns cut from its left.</param>
public readonly record struct TransposedConvParams(int Batch, int InputHeight, int InputWidth, int InputChannels, int OutputHeight, int OutputWidth,
                                                   int Filters, int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PadTop, int PadLeft)
{
    /// <summary>Work rows: <c>Batch · OutputHeight</c>.</summary>
    public int RowCount => Batch * OutputHeight;
}

/// <summary>
/// The transposed convolution as a gather over output rows, so threads never write the same output: output pixel
/// <c>(oy, ox)</c> sums <c>x[iy, ix] · W[ky, kx]</c> over the taps with <c>oy = iy·sh + ky − padTop</c> (and likewise for
/// columns), vectorized over the filters with the weights packed <c>(kh, kw, in, filters)</c> by <see cref="PackWeights"/>.
/// Written once over <see cref="ILanes{TVector}"/>.
/// </summary>
public static class TransposedConvKernels
{
    /// <summary>Keras's kernel <c>(kh, kw, filters, in)</c> as <c>(kh, kw, in, filters)</c>, so a tap's filters are contiguous.</summary>
    /// <exception cref="ArgumentException">The spans do not hold <c>kh · kw · filters · in</c> values.</exception>
    public static void PackWeights(ReadOnlySpan<float> kernel, Span<float> packed, int kernelHeight, int kernelWidth, int filters, int inputChannels)
    {
        long count = (long)kernelHeight * kernelWidth * filters * inputChannels;
        if (kernel.Length != count || packed.Length != count)
            throw new ArgumentException($"a {kernelHeight}x{kernelWidth}x{filters}x{inputChannels} kernel has {count} values; got {kernel.Length} and {packed.Length}");
        int taps = kernelHeight * kernelWidth, tapSize = filters * inputChannels;
        for (int t = 0; t < taps; t++)
        {
            var source = kernel.Slice(t * tapSize, tapSize);
            var destination = packed.Slice(t * tapSize, tapSize);
            for (int f = 0; f < filters; f++)
                for (int c = 0; c < inputChannels; c++)
                    destination[c * filters + f] = source[f * inputChannels + c];
        }
    }

    /// <summary>
    /// Computes output rows <paramref name="rows"/> (of <c>batch · outputHeight</c>) without activation: the bias (or 0)
    /// plus every tap that reaches them.
    /// </summary>
    /// <exception cref="ArgumentException">A span is smaller than the shapes need, or the shapes are invalid.</exception>
    public static void Rows(ReadOnlySpan<float> input, ReadOnlySpan<float> packedKernel, ReadOnlySpan<float> bias, Span<float> output,
                            in TransposedConvParams p, RowRange rows, SimdWidth width = SimdWidth.Auto)
    {
        Check(input.Length, packedKernel.Length, bias.Length, output.Length, in p, rows);
        var kernel = new RowsKernel { Input = input, Kernel = packedKernel, Bias = bias, Output = output, Params = p, Rows = rows };
        SimdDispatch.Run(width, ref kernel);
    }

    private ref struct RowsKernel : ISimdKernel
    {
        public ReadOnlySpan<float> Input, Kernel, Bias;
        public Span<float> Output;
        public TransposedConvParams Params;
        public RowRange Rows;

        public readonly void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            var p = Params;
            int filters = p.Filters, channels = p.InputChannels;
            int vectorEnd = filters - filters % TLanes.Count;
            ref readonly float input = ref MemoryMarshal.GetReference(Input);
            ref readonly float kernel = ref MemoryMarshal.GetReference(Kernel);
            for (int row = Rows.Start; row < Rows.End; row++)
            {
                int n = row / p.OutputHeight, oy = row - n * p.OutputHeight;
                var outputRow = Output.Slice(row * p.OutputWidth * filters, p.OutputWidth * filters);
                for (int ox = 0; ox < p.OutputWidth; ox++)
                {
                    var pixel = outputRow.Slice(ox * filters, filters);
                    if (Bias.IsEmpty) pixel.Clear();
                    else Bias.CopyTo(pixel);
                }
                ref float output = ref MemoryMarshal.GetReference(outputRow);
                for (int ky = 0; ky < p.KernelHeight; ky++)
                {
                    int ty = oy + p.PadTop - ky;
                    if (ty < 0 || ty % p.StrideHeight != 0) continue;
                    int iy = ty / p.StrideHeight;
                    if (iy >= p.InputHeight) continue;
                    int inputRow = (n * p.InputHeight + iy) * p.InputWidth * channels;
                    for (int ox = 0; ox < p.OutputWidth; ox++)
                    {
                        nuint o = (nuint)(ox * filters);
                        for (int kx = 0; kx < p.KernelWidth; kx++)
                        {
                            int tx = ox + p.PadLeft - kx;
                            if (tx < 0 || tx % p.StrideWidth != 0) continue;
                            int ix = tx / p.StrideWidth;
                            if (ix >= p.InputWidth) continue;
                            int x = inputRow + ix * channels;
                            int tap = (ky * p.KernelWidth + kx) * channels * filters;
                            for (int f = 0; f < vectorEnd; f += TLanes.Count)
                            {
                                var sum = TLanes.Load(in output, o + (nuint)f);
                                for (int c = 0; c < channels; c++)
                                    sum = TLanes.MultiplyAdd(TLanes.Create(At(in input, x + c)), TLanes.Load(in kernel, (nuint)(tap + c * filters + f)), sum);
                                TLanes.Store(ref output, o + (nuint)f, sum);
                            }
                            for (int f = vectorEnd; f < filters; f++)
                            {
                                float sum = At(in output, (int)o + f);
                                for (int c = 0; c < channels; c++)
                                    sum = MathF.FusedMultiplyAdd(At(in input, x + c), At(in kernel, tap + c * filters + f), sum);
                                Unsafe.Add(ref output, (int)o + f) = sum;
                            }
                        }
                    }
                }
            }
        }

        private static float At(ref readonly float origin, int index) =>
            Unsafe.Add(ref Unsafe.AsRef(in origin), index);
    }

    private static void Check(int inputLength, int kernelLength, int biasLength, int outputLength, in TransposedConvParams p, RowRange rows)
    {
        if (p.Batch < 0 || p.InputHeight < 1 || p.InputWidth < 1 || p.InputChannels < 1 || p.OutputHeight < 1 || p.OutputWidth < 1 || p.Filters < 1
            || p.KernelHeight < 1 || p.KernelWidth < 1 || p.StrideHeight < 1 || p.StrideWidth < 1 || p.PadTop < 0 || p.PadLeft < 0
            || p.PadTop >= p.KernelHeight || p.PadLeft >= p.KernelWidth)
            throw new ArgumentException($"invalid transposed convolution {p}");
        if (inputLength < WindowChecks.Count(p.Batch, p.InputHeight, p.InputWidth, p.InputChannels))
            throw new ArgumentException($"input has {inputLength} elements, {p} needs more");
        if (kernelLength < (long)p.KernelHeight * p.KernelWidth * p.InputChannels * p.Filters)
            throw new ArgumentException($"kernel has {kernelLength} elements, {p} needs more");
        if (biasLength != 0 && biasLength != p.Filters)
            throw new ArgumentException($"bias has {biasLength} elements, expected {p.Filters} or none");
        if (outputLength < WindowChecks.Count(p.Batch, p.OutputHeight, p.OutputWidth, p.Filters))
            throw new ArgumentException($"output has {outputLength} elements, {p} needs more");
        if (rows.Start < 0 || rows.End > (long)p.Batch * p.OutputHeight || rows.Start > rows.End)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows must lie in [0, {(long)p.Batch * p.OutputHeight})");
    }
}
