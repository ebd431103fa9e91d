using System.Runtime.Intrinsics;

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
    public static void Forward<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> reduceKernel, ReadOnlySpan<float> reduceBias,
                                            ReadOnlySpan<float> expandKernel, ReadOnlySpan<float> expandBias, Span<float> output,
                                            Span<float> scratch, in SqueezeExcitationParams p, TActivation reduceActivation)
        where TActivation : struct, IActivation
    {
        if (Vector512.IsHardwareAccelerated)
            ForwardVector512(input, reduceKernel, reduceBias, expandKernel, expandBias, output, scratch, in p, reduceActivation);
        else
            ForwardVector256(input, reduceKernel, reduceBias, expandKernel, expandBias, output, scratch, in p, reduceActivation);
    }

    // The squeezed vector s is dead once the reduce conv has read it, so the excitation e reuses its slot:
    // scratch is [s then e | r], Channels + ReducedChannels floats.
    internal static void ForwardVector512<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> reduceKernel, ReadOnlySpan<float> reduceBias,
                                                       ReadOnlySpan<float> expandKernel, ReadOnlySpan<float> expandBias, Span<float> output,
                                                       Span<float> scratch, in SqueezeExcitationParams p, TActivation reduceActivation)
        where TActivation : struct, IActivation
    {
        Check(input.Length, output.Length, scratch.Length, in p);
        var squeezed = scratch[..p.Channels];
        var reduced = scratch.Slice(p.Channels, p.ReducedChannels);
        PoolingKernels.GlobalAveragePoolVector512(input, squeezed, p.Pixels);
        DenseKernels.ForwardVector512(squeezed, reduceKernel, reduceBias, reduced, new DenseParams(1, p.Channels, p.ReducedChannels),
            reduceActivation, RowRange.All(1));
        DenseKernels.ForwardVector512(reduced, expandKernel, expandBias, squeezed, new DenseParams(1, p.ReducedChannels, p.Channels),
            default(SigmoidActivation), RowRange.All(1));
        ElementwiseKernels.MultiplyByChannelVector512(input, squeezed, output);
    }

    internal static void ForwardVector256<TActivation>(ReadOnlySpan<float> input, ReadOnlySpan<float> reduceKernel, ReadOnlySpan<float> reduceBias,
                                                       ReadOnlySpan<float> expandKernel, ReadOnlySpan<float> expandBias, Span<float> output,
                                                       Span<float> scratch, in SqueezeExcitationParams p, TActivation reduceActivation)
        where TActivation : struct, IActivation
    {
        Check(input.Length, output.Length, scratch.Length, in p);
        var squeezed = scratch[..p.Channels];
        var reduced = scratch.Slice(p.Channels, p.ReducedChannels);
        PoolingKernels.GlobalAveragePoolVector256(input, squeezed, p.Pixels);
        DenseKernels.ForwardVector256(squeezed, reduceKernel, reduceBias, reduced, new DenseParams(1, p.Channels, p.ReducedChannels),
            reduceActivation, RowRange.All(1));
        DenseKernels.ForwardVector256(reduced, expandKernel, expandBias, squeezed, new DenseParams(1, p.ReducedChannels, p.Channels),
            default(SigmoidActivation), RowRange.All(1));
        ElementwiseKernels.MultiplyByChannelVector256(input, squeezed, output);
    }

    private static void Check(int inputLength, int outputLength, int scratchLength, in SqueezeExcitationParams p)
    {
        long imageLength = (long)p.Pixels * p.Channels;
        if (inputLength != imageLength) throw new ArgumentException($"input has {inputLength} elements, one image has {imageLength}");
        if (outputLength != imageLength) throw new ArgumentException($"output has {outputLength} elements, one image has {imageLength}");
        if (scratchLength < p.ScratchLength) throw new ArgumentException($"scratch has {scratchLength} floats, needs {p.ScratchLength}");
    }
}
