using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// Fully connected layer; rows are work blocks of units × batch rows (<see cref="DenseParams.BlockCount"/>), so that one
/// image's units are shared among threads. A softmax activation runs per batch row in a second pool run, once all the
/// row's units are done.
/// </summary>
internal sealed class CpuDense : CpuOp
{
    private readonly DenseParams _params;
    private readonly Tensor _kernel;
    private readonly Tensor? _bias;
    private readonly ActivationFunction _activation;
    private readonly SoftmaxPhase? _softmax;

    public CpuDense(DenseOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, op.UseBias ? 2 : 1)
    {
        var i = Input.Shape;
        if (i.Rank != 2) throw Fail($"expected a (batch, features) input, got {i}");
        ExpectShape(Output.Shape, new TensorShape(i.Batch, op.Units), "output");
        _kernel = binding.Weights[0];
        ExpectShape(_kernel.Shape, new TensorShape(i.Channels, op.Units), "kernel");
        _bias = OptionalBias(binding, op.UseBias, op.Units);
        _activation = op.Activation;
        _params = new DenseParams(i.Batch, i.Channels, op.Units);
        _softmax = _activation.IsElementwise ? null : new SoftmaxPhase(this);
    }

    protected override int RowCount => _params.BlockCount;

    public override void Run()
    {
        base.Run();
        if (_softmax is not null) Pool.Run(_softmax, _params.Batch);
    }

    public override void Execute(RowRange rows)
    {
        var call = new Call(this, rows);
        ActivationDispatch.Dispatch(_activation.IsElementwise ? _activation : ActivationFunction.Linear, ref call);
    }

    private readonly struct Call(CpuDense op, RowRange rows) : IActivationConsumer
    {
        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation =>
            DenseKernels.ForwardBlocks(op.Input.Span, op._kernel.Span, op._bias is null ? default : op._bias.Span,
                                       op.Output.Span, in op._params, activation, rows);
    }

    /// <summary>Rows are batch rows: softmax over each row's units.</summary>
    private sealed class SoftmaxPhase(CpuDense op) : IRowWork
    {
        public void Execute(RowRange rows)
        {
            int units = op._params.Units;
            for (int n = rows.Start; n < rows.End; n++)
            {
                var row = op.Output.Span.Slice(n * units, units);
                ElementwiseKernels.Softmax(row, row);
            }
        }
    }
}
