using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>Shapes of one squeeze-and-excitation block on one image.</summary>
/// <param name="Pixels">Height × width.</param>
/// <param name="Channels">Input and output channels.</param>
/// <param name="ReducedChannels">Bottleneck width of the reduce conv.</param>
public readonly record struct SqueezeExcitationParams(int Pixels, int Channels, int ReducedChannels)
{
    /// <summary>Floats of scratch memory <see cref="SqueezeExcitationKernels.Forward"/> needs.</summary>
    public int ScratchLength => Channels + ReducedChannels;
}

/// <summary>Fused squeeze-and-excitation (EfficientNet's <c>se_squeeze … se_excite</c> in one pass).</summary>
public static class SqueezeExcitationKernels
{
    /// <summary>
    /// For one image: <c>s = mean_p input[p, :]</c>; <c>r = act(s · reduceKernel + reduceBias)</c>;
    /// <c>e = sigmoid(r · expandKernel + expandBias)</c>; <c>output[p, c] = input[p, c] · e[c]</c>.
    /// </summary>
    /// <param name="input"><c>(pixels, channels)</c> of one image.</param>
    /// <param name="reduceKernel"><c>(channels, reduced)</c> (a 1×1 HWIO kernel flattened).</param>
    /// <param name="reduceBias"><c>(reduced)</c>.</param>
    /// <param name="expandKernel"><c>(reduced, channels)</c>.</param>
    /// <param name="expandBias"><c>(channels)</c>.</param>
    /// <param name="output"><c>(pixels, channels)</c>; may be <paramref name="input"/>.</param>
    /// <param name="scratch">At least <see cref="SqueezeExcitationParams.ScratchLength"/> floats.</param>
    /// <param name="p">Shapes.</param>
    /// <param name="reduceActivation">Activation after the reduce conv (swish in EfficientNet).</param>
    /// <param name="width">The SIMD width (<see cref="SimdWidth.Auto"/>: <see cref="SimdDispatch.Best"/>).</param>
    public static void Forward<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> reduceKernel, ReadOnlySpan<float> reduceBias,
                                            ReadOnlySpan<float> expandKernel, ReadOnlySpan<float> expandBias, Span<float> output,
                                            Span<float> scratch, in SqueezeExcitationParams p, TActivation reduceActivation,
                                            SimdWidth width = SimdWidth.Auto)
        where TActivation : struct, IActivation
    {
        Check(input.Length, output.Length, scratch.Length, in p);
        // The squeezed vector s is dead once the reduce conv has read it, so the excitation e reuses its slot:
        // scratch is [s then e | r], Channels + ReducedChannels floats.
        var squeezed = scratch[..p.Channels];
        var reduced = scratch.Slice(p.Channels, p.ReducedChannels);
        PoolingKernels.GlobalAveragePool(input, squeezed, p.Pixels, width);
        DenseKernels.Forward(squeezed, reduceKernel, reduceBias, reduced, new DenseParams(1, p.Channels, p.ReducedChannels),
            reduceActivation, RowRange.All(1), width);
        DenseKernels.Forward(reduced, expandKernel, expandBias, squeezed, new DenseParams(1, p.ReducedChannels, p.Channels),
            default(SigmoidActivation), RowRange.All(1), width);
        ElementwiseKernels.MultiplyByChannel(input, squeezed, output, width);
    }

    /// <summary>
    /// The squeeze split for several threads, phase 1: the mean of pixel block <paramref name="block"/> of one image, where
    /// <see cref="PixelBlock"/> cuts the pixels into <paramref name="blocks"/> nearly equal blocks.
    /// </summary>
    /// <param name="input"><c>(pixels, channels)</c> of one image.</param>
    /// <param name="partialMean"><c>(channels)</c>: the block's mean.</param>
    /// <param name="p">Shapes.</param>
    /// <param name="blocks">How many blocks the pixels are cut into, 1 to <c>Pixels</c>.</param>
    /// <param name="block">The block to average.</param>
    /// <param name="width">The SIMD width (<see cref="SimdWidth.Auto"/>: <see cref="SimdDispatch.Best"/>).</param>
    public static void SqueezeBlock(ReadOnlySpan<float> input, Span<float> partialMean, in SqueezeExcitationParams p, int blocks, int block,
                                    SimdWidth width = SimdWidth.Auto)
    {
        if ((long)input.Length != (long)p.Pixels * p.Channels) throw new ArgumentException($"input has {input.Length} elements, one image has {(long)p.Pixels * p.Channels}", nameof(input));
        if (partialMean.Length != p.Channels) throw new ArgumentException($"partialMean has {partialMean.Length} floats for {p.Channels} channels", nameof(partialMean));
        PixelBlock(p.Pixels, blocks, block, out int start, out int end);
        PoolingKernels.GlobalAveragePool(input.Slice(start * p.Channels, (end - start) * p.Channels), partialMean, end - start, width);
    }

    /// <summary>
    /// Phase 2: the image mean from the <paramref name="blocks"/> block means of <see cref="SqueezeBlock"/>, then
    /// <c>e = sigmoid(act(mean · reduceKernel + reduceBias) · expandKernel + expandBias)</c>.
    /// </summary>
    /// <param name="partialMeans"><c>(blocks, channels)</c>; overwritten (the first row becomes the image mean).</param>
    /// <param name="reduceKernel"><c>(channels, reduced)</c>.</param>
    /// <param name="reduceBias"><c>(reduced)</c>.</param>
    /// <param name="expandKernel"><c>(reduced, channels)</c>.</param>
    /// <param name="expandBias"><c>(channels)</c>.</param>
    /// <param name="reduced"><c>(reduced)</c> scratch.</param>
    /// <param name="excitation"><c>(channels)</c>: the per-channel scale.</param>
    /// <param name="p">Shapes.</param>
    /// <param name="blocks">The block count given to <see cref="SqueezeBlock"/>.</param>
    /// <param name="reduceActivation">Activation after the reduce conv.</param>
    /// <param name="width">The SIMD width (<see cref="SimdWidth.Auto"/>: <see cref="SimdDispatch.Best"/>).</param>
    public static void Excite<TActivation>(Span<float> partialMeans, ReadOnlySpan<float> reduceKernel, ReadOnlySpan<float> reduceBias,
                                           ReadOnlySpan<float> expandKernel, ReadOnlySpan<float> expandBias, Span<float> reduced,
                                           Span<float> excitation, in SqueezeExcitationParams p, int blocks, TActivation reduceActivation,
                                           SimdWidth width = SimdWidth.Auto)
        where TActivation : struct, IActivation
    {
        int c = p.Channels;
        if ((long)partialMeans.Length < (long)blocks * c) throw new ArgumentException($"partialMeans has {partialMeans.Length} floats for {blocks} blocks of {c}", nameof(partialMeans));
        var mean = partialMeans[..c];
        PixelBlock(p.Pixels, blocks, 0, out int start, out int end);
        Scale(mean, (float)(end - start) / p.Pixels, mean, width);
        for (int b = 1; b < blocks; b++)
        {
            PixelBlock(p.Pixels, blocks, b, out start, out end);
            var partial = partialMeans.Slice(b * c, c);
            Scale(partial, (float)(end - start) / p.Pixels, partial, width);
            ElementwiseKernels.Add(mean, partial, mean, width);
        }
        DenseKernels.Forward(mean, reduceKernel, reduceBias, reduced, new DenseParams(1, c, p.ReducedChannels), reduceActivation, RowRange.All(1), width);
        DenseKernels.Forward(reduced, expandKernel, expandBias, excitation, new DenseParams(1, p.ReducedChannels, c),
            default(SigmoidActivation), RowRange.All(1), width);
    }

    // y = x · factor, as a one-channel MultiplyByChannel (in place is allowed there).
    private static void Scale(ReadOnlySpan<float> x, float factor, Span<float> y, SimdWidth width)
        => ElementwiseKernels.MultiplyByChannel(x, new ReadOnlySpan<float>(in factor), y, width);

    /// <summary>Pixels <c>[start, end)</c> of block <paramref name="block"/> when <paramref name="pixels"/> are cut into <paramref name="blocks"/>.</summary>
    /// <param name="pixels">Pixels of one image.</param>
    /// <param name="blocks">Block count, 1 to <paramref name="pixels"/>.</param>
    /// <param name="block">The block, 0 to <paramref name="blocks"/> − 1.</param>
    /// <param name="start">First pixel of the block.</param>
    /// <param name="end">One past its last pixel.</param>
    public static void PixelBlock(int pixels, int blocks, int block, out int start, out int end)
    {
        if (blocks < 1 || blocks > pixels) throw new ArgumentOutOfRangeException(nameof(blocks), blocks, $"needs 1 to {pixels} blocks");
        if ((uint)block >= (uint)blocks) throw new ArgumentOutOfRangeException(nameof(block), block, $"outside [0, {blocks})");
        start = (int)((long)pixels * block / blocks);
        end = (int)((long)pixels * (block + 1) / blocks);
    }

    private static void Check(int inputLength, int outputLength, int scratchLength, in SqueezeExcitationParams p)
    {
        long imageLength = (long)p.Pixels * p.Channels;
        if (inputLength != imageLength) throw new ArgumentException($"input has {inputLength} elements, one image has {imageLength}");
        if (outputLength != imageLength) throw new ArgumentException($"output has {outputLength} elements, one image has {imageLength}");
        if (scratchLength < p.ScratchLength) throw new ArgumentException($"scratch has {scratchLength} floats, needs {p.ScratchLength}");
    }
}
