using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tensors;

namespace NativeCnn.Backends.Cpu.Ops;

internal sealed class CpuConv2D : CpuOp
{
    private readonly Conv2DParams _params;
    private readonly Tensor _kernel;
    private readonly Tensor? _bias;
    private readonly ActivationFunction _activation;
    private readonly Tensor? _residual;

    public CpuConv2D(Conv2DOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, op.AddsResidual ? 2 : 1, op.UseBias ? 2 : 1)
    {
        var i = Input.Shape;
        if (i.Rank != 4) throw Fail($"expected an NHWC input, got {i}");
        int outH = Padding2D.OutputSize(i.Height, op.Padding.Top, op.Padding.Bottom, op.KernelHeight, op.StrideHeight, op.DilationHeight);
        int outW = Padding2D.OutputSize(i.Width, op.Padding.Left, op.Padding.Right, op.KernelWidth, op.StrideWidth, op.DilationWidth);
        ExpectShape(Output.Shape, TensorShape.Nhwc(i.Batch, outH, outW, op.Filters), "output");
        _kernel = binding.Weights[0];
        ExpectShape(_kernel.Shape, new TensorShape(op.KernelHeight, op.KernelWidth, i.Channels, op.Filters), "kernel");
        if (op.UseBias)
        {
            _bias = binding.Weights[1];
            ExpectLength(_bias, op.Filters, "bias");
        }
        _activation = op.Activation;
        if (op.AddsResidual)
        {
            _residual = Inputs[1];
            ExpectShape(_residual.Shape, Output.Shape, "residual input");
        }
        _params = new Conv2DParams(i.Batch, i.Height, i.Width, i.Channels, outH, outW, op.Filters,
            op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth, op.DilationHeight, op.DilationWidth,
            op.Padding.Top, op.Padding.Left);
    }

    protected override int RowCount => _params.RowCount;

    public override void Execute(RowRange rows)
    {
        var call = new Call(this, rows);
        ActivationDispatch.Dispatch(_activation, ref call);
    }

    private readonly struct Call(CpuConv2D op, RowRange rows) : IActivationConsumer
    {
        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            var bias = op._bias is null ? default : op._bias.Span;
            if (op._residual is null)
            {
                Conv2DKernels.Nhwc(op.Input.Span, op._kernel.Span, bias, op.Output.Span, in op._params, activation, rows);
                return;
            }
            // The residual is added to these rows while they are still in cache, then the activation runs on the sum.
            Conv2DKernels.Nhwc(op.Input.Span, op._kernel.Span, bias, op.Output.Span, in op._params, default(IdentityActivation), rows);
            int rowLength = op._params.OutputWidth * op._params.OutputChannels;
            var output = op.Output.Span.Slice(rows.Start * rowLength, rows.Count * rowLength);
            ElementwiseKernels.Add(output, op._residual.Span.Slice(rows.Start * rowLength, rows.Count * rowLength), output);
            if (activation is not IdentityActivation) ElementwiseKernels.Apply(output, output, activation);
        }
    }
}
