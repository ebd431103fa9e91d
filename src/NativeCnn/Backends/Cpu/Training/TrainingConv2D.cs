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
    private readonly Conv2DParams _params;
    private readonly DenseParams _gemm;
    private readonly bool _pointwise;
    private readonly ActivationStage _activation;
    private readonly float[] _transposedKernel;
    private readonly ConvTrainingSlices _slices;
    private readonly int _pixelCount;
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

        _slices = new ConvTrainingSlices(in _params, _pointwise ? 0 : depth, Weights[0].Length, pool.ThreadCount);
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
        else Pool.Run(_forward, _slices.Count);
        _activation.Run();
    }

    private void PointwiseForward(RowRange blocks) =>
        DenseKernels.ForwardBlocks(Input.Span, Weights[0].Span, Bias, _activation.PreActivation.Span, in _gemm, default(IdentityActivation), blocks);

    private void PatchForward(RowRange slices)
    {
        for (int t = slices.Start; t < slices.End; t++)
            _slices.MultiplyPatches(Input.Span, Weights[0].Span, Bias, _activation.PreActivation.Span, in _params, _pixelCount, t);
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
            Pool.Run(_kernelGradient, _slices.Count);
            _slices.AddKernelGradient(kernel.Span);
        }
        if (WeightGradients.Count > 1 && WeightGradients[1] is { } bias)
            DenseBackwardKernels.BiasGradient(_dz.Span, bias.Span, _pixelCount, accumulate: true);
    }

    private void KernelGradientSlices(RowRange slices)
    {
        for (int t = slices.Start; t < slices.End; t++) _slices.KernelGradient(Input.Span, _dz.Span, in _params, t);
    }

    public override void Dispose()
    {
        _activation.Dispose();
    }
}
