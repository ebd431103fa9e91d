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
    private readonly ActivationFunction _activation;
    private readonly CpuDense _linear;
    private readonly CpuActivation? _activationOp;
    private readonly Tensor _preActivation;
    private readonly Tensor? _preActivationGradient;
    private readonly RowWork _inputGradient, _kernelGradient;
    private Tensor _dz;

    public TrainingDense(DenseOp op, TrainingBinding binding, WorkerPool pool) : base(binding, pool, 1)
    {
        var i = Input.Shape;
        if (i.Rank != 2) throw Fail($"expected a (batch, features) input, got {i}");
        _params = new DenseParams(i.Batch, i.Channels, op.Units);
        _activation = op.Activation;
        bool linear = op.Activation.Kind == ActivationKind.Linear;
        _preActivation = linear ? Output : new Tensor(Output.Shape);
        _preActivationGradient = linear ? null : new Tensor(Output.Shape);
        var pre = new HostBuffer(_preActivation);
        _linear = new CpuDense(op with { Activation = ActivationFunction.Linear }, new OpBinding(LayerName, binding.Inputs, pre, binding.Weights), pool);
        if (!linear) _activationOp = new CpuActivation(new ActivationOp(op.Activation), new OpBinding(LayerName, [pre], binding.Output, []), pool);
        _dz = OutputGradient;
        _inputGradient = new RowWork(rows => DenseBackwardKernels.InputGradient(_dz.Span, Weights[0].Span, InputGradient!.Span, in _params, rows, accumulate: true));
        _kernelGradient = new RowWork(rows => DenseBackwardKernels.KernelGradient(Input.Span, _dz.Span, WeightGradients[0]!.Span, in _params, rows, accumulate: true));
    }

    public override void Forward(bool training)
    {
        _linear.Run();
        _activationOp?.Run();
    }

    public override void Backward()
    {
        _dz = ThroughActivation(_activation, _preActivation, Output, OutputGradient, _preActivationGradient);
        if (InputGradient is not null) Pool.Run(_inputGradient, _params.Batch);
        if (WeightGradients[0] is not null) Pool.Run(_kernelGradient, _params.InputFeatures, 16);
        if (WeightGradients.Count > 1 && WeightGradients[1] is { } bias)
            DenseBackwardKernels.BiasGradient(_dz.Span, bias.Span, _params.Batch, accumulate: true);
    }

    public override void Dispose()
    {
        _linear.Dispose();
        _activationOp?.Dispose();
        if (_preActivation != Output) _preActivation.Dispose();
        _preActivationGradient?.Dispose();
    }
}
