using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>An activation on its own: element-wise in blocks, or softmax row by row over the last axis.</summary>
internal sealed class CpuActivation : CpuOp
{
    private const int ElementsPerRow = 4096;
    private readonly ActivationFunction _activation;
    private readonly int _rowLength;

    public CpuActivation(ActivationOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 0)
    {
        ExpectShape(Output.Shape, Input.Shape, "output");
        _activation = op.Activation;
        _rowLength = op.Activation.IsElementwise ? ElementsPerRow : Input.Shape.Channels;
    }

    protected override int RowCount => _rowLength == 0 ? 0 : (Input.Length + _rowLength - 1) / _rowLength;

    public override void Execute(RowRange rows)
    {
        int start = rows.Start * _rowLength, end = Math.Min(Input.Length, rows.End * _rowLength);
        if (!_activation.IsElementwise)
        {
            for (int r = rows.Start; r < rows.End; r++)
                ElementwiseKernels.Softmax(Input.Span.Slice(r * _rowLength, _rowLength), Output.Span.Slice(r * _rowLength, _rowLength));
            return;
        }
        var call = new Call(this, start, end);
        ActivationDispatch.Dispatch(_activation, ref call);
    }

    private readonly struct Call(CpuActivation op, int start, int end) : IActivationConsumer
    {
        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation =>
            ElementwiseKernels.Apply(op.Input.Span[start..end], op.Output.Span[start..end], activation);
    }
}
