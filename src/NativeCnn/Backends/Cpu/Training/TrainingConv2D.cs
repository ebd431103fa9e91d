using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Ops;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// A 2-D convolution in training. Forward is the implicit GEMM over the live HWIO kernel (patches of a few pixels at a
/// time, then <see cref="DenseKernels"/>; a pointwise convolution multiplies the input itself), because the inference
/// paths pack or transform their weights once and an optimizer step changes them. Backward: the input gradient by
/// input rows from the kernel transposed once per step, the kernel gradient by per-thread slices of output rows, summed.
/// </summary>
internal sealed class TrainingConv2D : CpuTrainingOp
{
    // Output pixels gathered per patch block: 64 rows of patches stay in L2 next to the kernel.
    private const int PixelsPerBlock = 64;

    private readonly Conv2DParams _params;
    private readonly DenseParams _gemm;
    private readonly bool _pointwise;
    private readonly ActivationStage _activation;
    private readonly float[] _transposedKernel;
    private readonly float[][] _patches, _kernelPartials, _workspaces;
    private readonly int _slices, _pixelCount;
    private readonly RowWork _forward, _inputGradient, _kernelGradient;
    private Tensor _dz;

    public TrainingConv2D(Conv2DOp op, TrainingBinding binding, WorkerPool pool) : base(binding, pool, 1)
    {
        if (op.AddsResidual || op.ScalesInputChannels) throw Fail("a fused residual or channel scale is not trained; build the training plan unfused");
        var i = Input.Shape;
        var o = Output.Shape;
        ExpectShape(Weights[0].Shape, new TensorShape(op.KernelHeight, op.KernelWidth, i.Channels, op.Filters), "kernel");
        _params = new Conv2DParams(i.Batch, i.Height, i.Width, i.Channels, o.Height, o.Width, op.Filters,
            op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth, op.DilationHeight, op.DilationWidth, op.Padding.Top, op.Padding.Left);
        _pointwise = op.IsPointwise;
        _pixelCount = checked(o.Batch * o.Height * o.Width);
        int depth = checked(op.KernelHeight * op.KernelWidth * i.Channels);
        _gemm = new DenseParams(_pixelCount, depth, op.Filters);
        _activation = new ActivationStage(LayerName, op.Activation, Output, binding.Output, pool);

        _slices = Math.Max(1, Math.Min(pool.ThreadCount, _params.RowCount));
        _patches = new float[_slices][];
        _kernelPartials = new float[_slices][];
        _workspaces = new float[_slices][];
        int workspace = Conv2DBackwardKernels.WorkspaceLength(in _params);
        for (int t = 0; t < _slices; t++)
        {
            _patches[t] = _pointwise ? [] : new float[checked(PixelsPerBlock * depth)];
            _kernelPartials[t] = new float[Weights[0].Length];
            _workspaces[t] = new float[workspace];
        }
        _transposedKernel = new float[Weights[0].Length];
        _dz = OutputGradient;
        _forward = new RowWork(_pointwise ? PointwiseForward : PatchForward);
        _inputGradient = new RowWork(rows => Conv2DBackwardKernels.InputGradient(_dz.Span, _transposedKernel, InputGradient!.Span, in _params, rows, accumulate: true));
        _kernelGradient = new RowWork(KernelGradientSlices);
    }

    private ReadOnlySpan<float> Bias => Weights.Count > 1 ? Weights[1].Span : default;

    public override void Forward(bool training)
    {
        if (_pointwise) Pool.Run(_forward, _gemm.BlockCount);
        else Pool.Run(_forward, _slices);
        _activation.Run();
    }

    private void PointwiseForward(RowRange blocks) =>
        DenseKernels.ForwardBlocks(Input.Span, Weights[0].Span, Bias, _activation.PreActivation.Span, in _gemm, default(IdentityActivation), blocks);

    // Each slice gathers its pixels' patches a block at a time into its own buffer and multiplies them by the kernel.
    private void PatchForward(RowRange slices)
    {
        int depth = _gemm.InputFeatures, filters = _gemm.Units;
        for (int t = slices.Start; t < slices.End; t++)
        {
            var pixels = Slice(_pixelCount, _slices, t);
            for (int start = pixels.Start; start < pixels.End; start += PixelsPerBlock)
            {
                int count = Math.Min(PixelsPerBlock, pixels.End - start);
                Conv2DKernels.GatherPatches(Input.Span, _patches[t], in _params, new RowRange(start, start + count));
                var block = new DenseParams(count, depth, filters);
                DenseKernels.Forward(_patches[t].AsSpan(0, count * depth), Weights[0].Span, Bias,
                                     _activation.PreActivation.Span.Slice(start * filters, count * filters), in block, default(IdentityActivation), RowRange.All(count));
            }
        }
    }

    public override void Backward()
    {
        _dz = _activation.Backward(OutputGradient);
        if (InputGradient is not null)
        {
            Conv2DBackwardKernels.TransposeKernel(Weights[0].Span, _transposedKernel, in _params);
            Pool.Run(_inputGradient, Conv2DBackwardKernels.InputRowCount(in _params));
        }
        if (WeightGradients[0] is { } kernel)
        {
            Pool.Run(_kernelGradient, _slices);
            AddPartials(kernel.Span, _kernelPartials, _slices);
        }
        if (WeightGradients.Count > 1 && WeightGradients[1] is { } bias)
            DenseBackwardKernels.BiasGradient(_dz.Span, bias.Span, _pixelCount, accumulate: true);
    }

    // Each slice sums its own output rows into its own partial kernel gradient; Backward adds the partials.
    private void KernelGradientSlices(RowRange slices)
    {
        for (int t = slices.Start; t < slices.End; t++)
            Conv2DBackwardKernels.KernelGradient(Input.Span, _dz.Span, _kernelPartials[t], _workspaces[t], in _params,
                                                 Slice(_params.RowCount, _slices, t), accumulate: false);
    }

    public override void Dispose()
    {
        _activation.Dispose();
    }
}
