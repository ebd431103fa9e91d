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
        => throw new NotImplementedException("assigned: elementwise kernels helper");
}
