using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Ops;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// A fully connected layer in training: forward is the inference kernel into the pre-activation (then the activation),
/// backward <c>dX += dZ·Wᵀ</c> split by batch rows, <c>dW += Xᵀ·dZ</c> split by input features, <c>db += Σ dZ</c>.
/// </summary>
internal sealed class TrainingDense : CpuTrainingOp
{
    private readonly DenseParams _params;
    private readonly CpuDense _linear;
    private readonly ActivationStage _activation;
    private readonly RowWork _inputGradient, _kernelGradient;
    private Tensor _dz;

    public TrainingDense(DenseOp op, TrainingBinding binding, WorkerPool pool) : base(binding, pool, 1)
    {
        var i = Input.Shape;
        if (i.Rank != 2) throw Fail($"expected a (batch, features) input, got {i}");
        _params = new DenseParams(i.Batch, i.Channels, op.Units);
        _activation = new ActivationStage(LayerName, op.Activation, Output, binding.Output, pool);
        _linear = new CpuDense(op with { Activation = ActivationFunction.Linear },
                               new OpBinding(LayerName, binding.Inputs, _activation.PreActivationBuffer, binding.Weights), pool);
        _dz = OutputGradient;
        _inputGradient = new RowWork(rows => DenseBackwardKernels.InputGradient(_dz.Span, Weights[0].Span, InputGradient!.Span, in _params, rows, accumulate: true));
        _kernelGradient = new RowWork(rows => DenseBackwardKernels.KernelGradient(Input.Span, _dz.Span, WeightGradients[0]!.Span, in _params, rows, accumulate: true));
    }

    public override void Forward(bool training)
    {
        _linear.Run();
        _activation.Run();
    }

    public override void Backward()
    {
        _dz = _activation.Backward(OutputGradient);
        if (InputGradient is not null) Pool.Run(_inputGradient, _params.Batch);
        if (WeightGradients[0] is not null) Pool.Run(_kernelGradient, _params.InputFeatures, 16);
        if (WeightGradients.Count > 1 && WeightGradients[1] is { } bias)
            DenseBackwardKernels.BiasGradient(_dz.Span, bias.Span, _params.Batch, accumulate: true);
    }

    public override void Dispose()
    {
        _linear.Dispose();
        _activation.Dispose();
    }
}
