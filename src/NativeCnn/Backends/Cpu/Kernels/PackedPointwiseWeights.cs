using NativeCnn.Backends.Cpu.Simd;

namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// A 1x1 convolution kernel <c>(inputChannels × outputChannels)</c> and its bias repacked once for
/// <see cref="PointwiseConvKernels"/>: output channels are cut into panels of <see cref="PanelWidth"/>, and each panel
/// is stored as <c>inputChannels</c> contiguous rows of <see cref="PanelWidth"/> values, so the micro-kernel reads its
/// weights as one sequential stream. The last panel and the bias are zero-padded to a whole panel.
/// </summary>
public sealed unsafe class PackedPointwiseWeights : IDisposable
{
    private readonly AlignedBuffer _panels;
    private readonly AlignedBuffer _bias;

    /// <summary>Packs <paramref name="kernel"/> for the kernels running at <paramref name="width"/>.</summary>
    /// <param name="kernel">The kernel, <c>(inputChannels, outputChannels)</c> row-major (HWIO with a 1x1 window).</param>
    /// <param name="bias">One value per output channel, or empty for none.</param>
    /// <param name="inputChannels">Input channels, at least 1.</param>
    /// <param name="outputChannels">Output channels, at least 1.</param>
    /// <param name="width">The SIMD width the kernels will run at (<see cref="SimdWidth.Auto"/>: this machine's widest).</param>
    /// <exception cref="ArgumentException">A span is too short or a channel count is not positive.</exception>
    public PackedPointwiseWeights(ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias, int inputChannels, int outputChannels,
                                  SimdWidth width = SimdWidth.Auto)
    {
        int panelWidth = PanelWidthFor(width);
        if (inputChannels < 1 || outputChannels < 1)
            throw new ArgumentException($"Channel counts must be positive, got {inputChannels} → {outputChannels}.");
        if (kernel.Length < (long)inputChannels * outputChannels)
            throw new ArgumentException($"Kernel has {kernel.Length} values, fewer than {inputChannels} × {outputChannels}.", nameof(kernel));
        if (!bias.IsEmpty && bias.Length < outputChannels)
            throw new ArgumentException($"Bias has {bias.Length} values for {outputChannels} output channels.", nameof(bias));
        InputChannels = inputChannels;
        OutputChannels = outputChannels;
        PanelWidth = panelWidth;
        PanelCount = (outputChannels + panelWidth - 1) / panelWidth;
        _panels = new AlignedBuffer((long)PanelCount * inputChannels * panelWidth);
        _bias = new AlignedBuffer((long)PanelCount * panelWidth);

        // Both buffers start zeroed, so the padding channels of the last panel contribute nothing.
        var panels = _panels.AsSpan();
        for (int panel = 0; panel < PanelCount; panel++)
        {
            int first = panel * panelWidth, columns = Math.Min(panelWidth, outputChannels - first);
            for (int c = 0; c < inputChannels; c++)
                kernel.Slice(c * outputChannels + first, columns).CopyTo(panels.Slice((panel * inputChannels + c) * panelWidth));
        }
        if (!bias.IsEmpty) bias[..outputChannels].CopyTo(_bias.AsSpan());
    }

    /// <summary>The panel width the kernels read at <paramref name="width"/>: two vectors (32 channels at 16 lanes, 2 in scalar code).</summary>
    public static int PanelWidthFor(SimdWidth width) => 2 * (int)SimdDispatch.Resolve(width);

    /// <summary>Input channels (the GEMM's K).</summary>
    public int InputChannels { get; }

    /// <summary>Output channels (the GEMM's N).</summary>
    public int OutputChannels { get; }

    /// <summary>Output channels per panel.</summary>
    public int PanelWidth { get; }

    /// <summary>Panels, the last one zero-padded.</summary>
    public int PanelCount { get; }

    /// <summary>The first panel's first value; panel <c>p</c> starts <c>p · InputChannels · PanelWidth</c> later.</summary>
    internal float* Panels => _panels.Pointer;

    /// <summary><c>PanelCount · PanelWidth</c> bias values, zero where there is no bias.</summary>
    internal float* Bias => _bias.Pointer;

    /// <summary>Frees the packed memory.</summary>
    public void Dispose()
    {
        _panels.Dispose();
        _bias.Dispose();
    }
}
