using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// The per-thread buffers and loops that the training convolution and transposed convolution share: an implicit GEMM
/// over gathered patches, split into one slice of pixels per pool thread, and the kernel gradient summed from one
/// partial per slice (no two threads write one value, so the sum needs no locks and is the same on every run).
/// </summary>
internal sealed class ConvTrainingSlices
{
    // Pixels gathered per patch block: 64 rows of patches stay in L2 next to the kernel.
    private const int PixelsPerBlock = 64;

    private readonly float[][] _patches, _kernelPartials, _workspaces;

    /// <param name="kernelGradient">The convolution whose kernel gradient the slices compute (its rows are split).</param>
    /// <param name="patchDepth">Values in one gathered patch; 0 when no implicit GEMM runs (pointwise).</param>
    /// <param name="kernelLength">Values in the kernel.</param>
    /// <param name="threadCount">The pool's threads.</param>
    public ConvTrainingSlices(in Conv2DParams kernelGradient, int patchDepth, int kernelLength, int threadCount)
    {
        Count = Math.Max(1, Math.Min(threadCount, kernelGradient.RowCount));
        _patches = new float[Count][];
        _kernelPartials = new float[Count][];
        _workspaces = new float[Count][];
        int workspace = Conv2DBackwardKernels.WorkspaceLength(in kernelGradient);
        for (int t = 0; t < Count; t++)
        {
            _patches[t] = patchDepth == 0 ? [] : new float[checked(PixelsPerBlock * patchDepth)];
            _kernelPartials[t] = new float[kernelLength];
            _workspaces[t] = new float[workspace];
        }
    }

    /// <summary>How many slices (pool work items) the loops split into.</summary>
    public int Count { get; }

    /// <summary>
    /// Slice <paramref name="slice"/> of <c>destination = patches(source) · kernel + bias</c> over
    /// <paramref name="pixelCount"/> output pixels of <paramref name="gather"/>, a block of patches at a time.
    /// </summary>
    public void MultiplyPatches(ReadOnlySpan<float> source, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias, Span<float> destination,
                                in Conv2DParams gather, int pixelCount, int slice)
    {
        int depth = gather.KernelHeight * gather.KernelWidth * gather.InputChannels, units = gather.OutputChannels;
        var pixels = CpuTrainingOp.Slice(pixelCount, Count, slice);
        for (int start = pixels.Start; start < pixels.End; start += PixelsPerBlock)
        {
            int count = Math.Min(PixelsPerBlock, pixels.End - start);
            Conv2DKernels.GatherPatches(source, _patches[slice], in gather, new RowRange(start, start + count));
            var block = new DenseParams(count, depth, units);
            DenseKernels.Forward(_patches[slice].AsSpan(0, count * depth), kernel, bias,
                                 destination.Slice(start * units, count * units), in block, default(IdentityActivation), RowRange.All(count));
        }
    }

    /// <summary>Slice <paramref name="slice"/>'s partial kernel gradient of <paramref name="p"/>, over its share of output rows.</summary>
    public void KernelGradient(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, in Conv2DParams p, int slice) =>
        Conv2DBackwardKernels.KernelGradient(input, outputGradient, _kernelPartials[slice], _workspaces[slice], in p,
                                             CpuTrainingOp.Slice(p.RowCount, Count, slice), accumulate: false);

    /// <summary>Adds the slices' partial kernel gradients into <paramref name="kernelGradient"/>.</summary>
    public void AddKernelGradient(Span<float> kernelGradient) => CpuTrainingOp.AddPartials(kernelGradient, _kernelPartials, Count);
}
