using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// Transposed convolution over output rows (<see cref="TransposedConvKernels"/>); the kernel is packed once here and the
/// activation runs on each chunk of rows while it is in cache.
/// </summary>
internal sealed class CpuConv2DTranspose : CpuOp
{
    private readonly TransposedConvParams _params;
    private readonly float[] _packedKernel;
    private readonly Tensor? _bias;
    private readonly ActivationFunction _activation;

    public CpuConv2DTranspose(Conv2DTransposeOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, op.UseBias ? 2 : 1)
    {
        var i = ExpectNhwcInput();
        if (op.KernelHeight < 1 || op.KernelWidth < 1 || op.StrideHeight < 1 || op.StrideWidth < 1 || op.Filters < 1)
            throw Fail($"invalid transposed convolution {op}");
        if (op.PadTop < 0 || op.PadLeft < 0 || op.PadTop >= op.KernelHeight || op.PadLeft >= op.KernelWidth)
            throw Fail($"pads {op.PadTop}, {op.PadLeft} must lie in [0, kernel) for a {op.KernelHeight}x{op.KernelWidth} kernel");
        if (!op.Activation.IsElementwise) throw Fail($"a transposed convolution cannot fuse {op.Activation}");
        ExpectShape(Output.Shape, TensorShape.Nhwc(i.Batch, op.OutputHeight, op.OutputWidth, op.Filters), "output");
        var kernel = binding.Weights[0];
        ExpectShape(kernel.Shape, new TensorShape(op.KernelHeight, op.KernelWidth, op.Filters, i.Channels), "kernel");
        _bias = OptionalBias(binding, op.UseBias, op.Filters);
        _activation = op.Activation;
        _params = new TransposedConvParams(i.Batch, i.Height, i.Width, i.Channels, op.OutputHeight, op.OutputWidth, op.Filters,
                                           op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth, op.PadTop, op.PadLeft);
        _packedKernel = new float[kernel.Length];
        TransposedConvKernels.PackWeights(kernel.Span, _packedKernel, op.KernelHeight, op.KernelWidth, op.Filters, i.Channels);
    }

    protected override int RowCount => _params.RowCount;

    public override void Execute(RowRange rows)
    {
        TransposedConvKernels.Rows(Input.Span, _packedKernel, _bias is null ? default : _bias.Span, Output.Span, in _params, rows);
        if (_activation.Kind == ActivationKind.Linear) return;
        int rowLength = _params.OutputWidth * _params.Filters;
        var chunk = Output.Span.Slice(rows.Start * rowLength, (rows.End - rows.Start) * rowLength);
        var apply = new Apply(chunk);
        ActivationDispatch.Dispatch(_activation, ref apply);
    }

    private readonly ref struct Apply(Span<float> values) : IActivationConsumer
    {
        private readonly Span<float> _values = values;

        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation =>
            ElementwiseKernels.Apply(_values, _values, activation);
    }
}
