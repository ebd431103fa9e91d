namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// A separable convolution in training: its depthwise step (<see cref="TrainingDepthwiseConv2D"/>) into an intermediate
/// tensor, then its pointwise step (<see cref="TrainingConv2D"/>, with the bias and activation). Backward runs the
/// pointwise step into the intermediate gradient (cleared first, since the steps add), then the depthwise step.
/// </summary>
internal sealed class TrainingSeparableConv2D : CpuTrainingOp
{
    private readonly Tensor _intermediate, _intermediateGradient;
    private readonly TrainingDepthwiseConv2D _depthwise;
    private readonly TrainingConv2D _pointwise;
    private readonly bool _depthwiseBackward;

    public TrainingSeparableConv2D(SeparableConv2DOp op, TrainingBinding binding, WorkerPool pool) : base(binding, pool, 1)
    {
        int weights = op.Pointwise.UseBias ? 3 : 2;
        if (Weights.Count != weights) throw Fail($"expected {weights} weights (depthwise kernel, pointwise kernel{(weights == 3 ? ", bias" : "")}), got {Weights.Count}");
        TensorShape shape;
        try
        {
            shape = op.IntermediateShape(Input.Shape);
        }
        catch (ArgumentException e)
        {
            throw Fail(e.Message);
        }
        _intermediate = new Tensor(shape);
        _intermediateGradient = new Tensor(shape);
        var intermediate = new HostBuffer(_intermediate);
        var intermediateGradient = new HostBuffer(_intermediateGradient);
        _depthwiseBackward = InputGradient is not null || WeightGradients[0] is not null;
        _depthwise = new TrainingDepthwiseConv2D(op.Depthwise,
            new TrainingBinding(LayerName, binding.Inputs, intermediate, binding.InputGradients, intermediateGradient, [Weights[0]], [WeightGradients[0]]), pool);
        _pointwise = new TrainingConv2D(op.Pointwise,
            new TrainingBinding(LayerName, [intermediate], binding.Output, [_depthwiseBackward ? intermediateGradient : null], binding.OutputGradient,
                                [.. Weights.Skip(1)], [.. WeightGradients.Skip(1)]), pool);
    }

    public override void Forward(bool training)
    {
        _depthwise.Forward(training);
        _pointwise.Forward(training);
    }

    public override void Backward()
    {
        if (_depthwiseBackward) _intermediateGradient.Span.Clear();
        _pointwise.Backward();
        if (_depthwiseBackward) _depthwise.Backward();
    }

    public override void Dispose()
    {
        _pointwise.Dispose();
        _depthwise.Dispose();
        _intermediate.Dispose();
        _intermediateGradient.Dispose();
    }
}
