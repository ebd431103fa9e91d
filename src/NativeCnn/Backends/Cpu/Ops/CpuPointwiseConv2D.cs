using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// A pointwise (1x1, stride 1, unpadded) convolution: a packed GEMM on the input itself, pixels × input channels, with
/// optional input channel scales (a fused squeeze-and-excitation's excitation) applied as the kernel rows stream.
/// </summary>
internal sealed class CpuPointwiseConv2D : CpuPackedGemmConv2D
{
    private readonly Tensor? _inputScale;

    public CpuPointwiseConv2D(Conv2DOp op, OpBinding binding, WorkerPool pool) : base(op, binding, pool, Conv2DPath.Pointwise)
    {
        if (!op.IsPointwise) throw Fail($"{op} is not a pointwise convolution");
        if (op.ScalesInputChannels)
        {
            _inputScale = Inputs[^1];
            ExpectShape(_inputScale.Shape, TensorShape.Nhwc(Params.Batch, 1, 1, Params.InputChannels), "input channel scales");
        }
    }

    protected override void Execute<TActivation>(RowRange rows, TActivation activation)
    {
        var scale = _inputScale is null ? default : _inputScale.Span;
        int mapPixels = Params.OutputHeight * Params.OutputWidth;
        for (int row = rows.Start; row < rows.End;)
        {
            row = Split.Item(row, rows.End, out var blocks, out var panels);
            Multiply(Input.Span, Residual, Output.Span, Gemm, activation, Pixels(blocks), panels, scale, mapPixels);
        }
    }
}
