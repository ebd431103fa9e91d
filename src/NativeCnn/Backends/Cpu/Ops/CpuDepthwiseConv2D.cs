using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

internal sealed class CpuDepthwiseConv2D : CpuOp
{
    private readonly DepthwiseConv2DParams _params;
    private readonly Tensor _kernel;
    private readonly Tensor? _bias;
    private readonly ActivationFunction _activation;

    public CpuDepthwiseConv2D(DepthwiseConv2DOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, op.UseBias ? 2 : 1)
    {
        var i = ExpectNhwcInput();
        int outH = WindowOutputSize("height", i.Height, op.Padding.Top, op.Padding.Bottom, op.KernelHeight, op.StrideHeight, op.DilationHeight);
        int outW = WindowOutputSize("width", i.Width, op.Padding.Left, op.Padding.Right, op.KernelWidth, op.StrideWidth, op.DilationWidth);
        int outC = ChannelProduct(i.Channels, op.DepthMultiplier);
        ExpectShape(Output.Shape, TensorShape.Nhwc(i.Batch, outH, outW, outC), "output");
        _kernel = binding.Weights[0];
        ExpectShape(_kernel.Shape, new TensorShape(op.KernelHeight, op.KernelWidth, i.Channels, op.DepthMultiplier), "depthwise kernel");
        _bias = OptionalBias(binding, op.UseBias, outC);
        _activation = op.Activation;
        _params = new DepthwiseConv2DParams(i.Batch, i.Height, i.Width, i.Channels, outH, outW, op.DepthMultiplier,
            op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth, op.DilationHeight, op.DilationWidth,
            op.Padding.Top, op.Padding.Left);
    }

    protected override int RowCount => _params.RowCount;

    public override void Execute(RowRange rows)
    {
        var call = new Call(this, rows);
        ActivationDispatch.Dispatch(_activation, ref call);
    }

    private readonly struct Call(CpuDepthwiseConv2D op, RowRange rows) : IActivationConsumer
    {
        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation =>
            DepthwiseConv2DKernels.Nhwc(op.Input.Span, op._kernel.Span, op._bias is null ? default : op._bias.Span,
                                        op.Output.Span, in op._params, activation, rows);
    }
}
