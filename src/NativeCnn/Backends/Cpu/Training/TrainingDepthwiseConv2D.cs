using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Ops;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// A depthwise convolution in training: forward is the inference kernel (it reads the live kernel) into the
/// pre-activation, backward the depthwise kernels' input gradient by input rows and kernel gradient by per-thread
/// slices of output rows, summed.
/// </summary>
internal sealed class TrainingDepthwiseConv2D : CpuTrainingOp
{
    private readonly DepthwiseConv2DParams _params;
    private readonly CpuDepthwiseConv2D _linear;
    private readonly ActivationStage _activation;
    private readonly RowWork _inputGradient, _kernelGradient;
    private readonly float[][] _kernelPartials;
    private readonly int _slices;
    private Tensor _dz;

    public TrainingDepthwiseConv2D(DepthwiseConv2DOp op, TrainingBinding binding, WorkerPool pool) : base(binding, pool, 1)
    {
        var i = Input.Shape;
        _activation = new ActivationStage(LayerName, op.Activation, Output, binding.Output, pool);
        _linear = new CpuDepthwiseConv2D(op with { Activation = ActivationFunction.Linear },
                                         new OpBinding(LayerName, binding.Inputs, _activation.PreActivationBuffer, binding.Weights), pool);
        var o = Output.Shape;
        _params = new DepthwiseConv2DParams(i.Batch, i.Height, i.Width, i.Channels, o.Height, o.Width, op.DepthMultiplier,
            op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth, op.DilationHeight, op.DilationWidth, op.Padding.Top, op.Padding.Left);
        _slices = Math.Max(1, Math.Min(pool.ThreadCount, _params.RowCount));
        _kernelPartials = new float[_slices][];
        for (int t = 0; t < _slices; t++) _kernelPartials[t] = new float[Weights[0].Length];
        _dz = OutputGradient;
        _inputGradient = new RowWork(rows => DepthwiseConv2DBackwardKernels.InputGradient(_dz.Span, Weights[0].Span, InputGradient!.Span, in _params, rows, accumulate: true));
        _kernelGradient = new RowWork(KernelGradientSlices);
    }

    private bool HasBiasGradient => WeightGradients.Count > 1 && WeightGradients[1] is not null;

    public override void Forward(bool training)
    {
        _linear.Run();
        _activation.Run();
    }

    public override void Backward()
    {
        _dz = _activation.Backward(OutputGradient);
        if (InputGradient is not null) Pool.Run(_inputGradient, DepthwiseConv2DBackwardKernels.InputRowCount(in _params));
        if (WeightGradients[0] is { } kernel)
        {
            Pool.Run(_kernelGradient, _slices);
            AddPartials(kernel.Span, _kernelPartials, _slices);
        }
        if (HasBiasGradient)
            DenseBackwardKernels.BiasGradient(_dz.Span, WeightGradients[1]!.Span, checked(_params.RowCount * _params.OutputWidth), accumulate: true);
    }

    // Each slice sums its own output rows into its own partial kernel gradient; Backward adds the partials.
    private void KernelGradientSlices(RowRange slices)
    {
        for (int t = slices.Start; t < slices.End; t++)
        {
            var rows = Slice(_params.RowCount, _slices, t);
            DepthwiseConv2DBackwardKernels.KernelGradient(Input.Span, _dz.Span, _kernelPartials[t], in _params, rows, accumulate: false);
        }
    }

    public override void Dispose()
    {
        _linear.Dispose();
        _activation.Dispose();
    }
}
