using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tensors;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// A 2-D convolution. Pointwise ones (1x1, stride 1, unpadded) run as a packed GEMM over pixel blocks, with the kernel
/// packed here once; the rest run the direct convolution over output rows.
/// </summary>
internal sealed class CpuConv2D : CpuOp
{
    /// <summary>Work rows a pointwise layer aims for, so that small layers still give every thread several chunks.</summary>
    private const int MinPointwiseRows = 16;

    private readonly Conv2DParams _params;
    private readonly Tensor _kernel;
    private readonly Tensor? _bias;
    private readonly ActivationFunction _activation;
    private readonly Tensor? _residual;
    private readonly PackedPointwiseWeights? _packed;
    private readonly PointwiseConvParams _pointwise;
    private readonly int _pixelBlocks, _panelGroups;
    private readonly Tensor? _patches;
    private readonly PatchGather? _gather;

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

        bool pointwise = op.KernelHeight == 1 && op.KernelWidth == 1 && op.StrideHeight == 1 && op.StrideWidth == 1
                         && op.Padding == Padding2D.None && op.DilationHeight == 1 && op.DilationWidth == 1;
        // Other convolutions go through the same packed GEMM on gathered patches (im2col: one row of kh·kw·C values
        // per output pixel, in HWIO order) where the direct kernel is weak: strided 1x1s, small maps (7x7, 14x14,
        // where most pixels touch the padding) and thin inputs such as the RGB stem.
        bool patches = !pointwise && (op.KernelHeight * op.KernelWidth == 1 || outW <= 14 || i.Channels < 8);
        if (pointwise || patches)
        {
            int depth = op.KernelHeight * op.KernelWidth * i.Channels;
            if (patches)
            {
                _patches = new Tensor(new TensorShape(i.Batch * outH * outW, depth));
                _gather = new PatchGather(this);
            }
            _packed = new PackedPointwiseWeights(_kernel.Span, _bias is null ? default : _bias.Span, depth, op.Filters);
            _pointwise = new PointwiseConvParams(i.Batch * outH * outW, depth, op.Filters);
            _pixelBlocks = (_pointwise.Pixels + PointwiseConvKernels.PixelBlock - 1) / PointwiseConvKernels.PixelBlock;
            // Few pixels (7x7 maps) leave too few blocks to share: the output channels are then split into panel groups too.
            _panelGroups = Math.Clamp((MinPointwiseRows + _pixelBlocks - 1) / _pixelBlocks, 1, _packed.PanelCount);
        }
    }

    protected override int RowCount => _packed is null ? _params.RowCount : _pixelBlocks * _panelGroups;

    public override void Execute(RowRange rows)
    {
        var call = new Call(this, rows);
        ActivationDispatch.Dispatch(_activation, ref call);
    }

    public override void Run()
    {
        if (_gather is not null) Pool.Run(_gather, _params.RowCount);
        base.Run();
    }

    public override void Dispose()
    {
        _packed?.Dispose();
        _patches?.Dispose();
    }

    /// <summary>Writes the patches of output rows: for each output pixel its kh·kw windows of C channels, zeros where they fall in the padding.</summary>
    private sealed class PatchGather(CpuConv2D op) : IRowWork
    {
        public void Execute(RowRange rows)
        {
            var p = op._params;
            var source = op.Input.Span;
            var target = op._patches!.Span;
            int channels = p.InputChannels, depth = p.KernelHeight * p.KernelWidth * channels;
            for (int row = rows.Start; row < rows.End; row++)
            {
                int n = row / p.OutputHeight, oy = row - n * p.OutputHeight;
                for (int ox = 0; ox < p.OutputWidth; ox++)
                {
                    var patch = target.Slice((row * p.OutputWidth + ox) * depth, depth);
                    for (int ky = 0, k = 0; ky < p.KernelHeight; ky++)
                    {
                        int iy = oy * p.StrideHeight + ky * p.DilationHeight - p.PadTop;
                        for (int kx = 0; kx < p.KernelWidth; kx++, k += channels)
                        {
                            int ix = ox * p.StrideWidth + kx * p.DilationWidth - p.PadLeft;
                            var window = patch.Slice(k, channels);
                            if ((uint)iy < (uint)p.InputHeight && (uint)ix < (uint)p.InputWidth)
                                source.Slice(((n * p.InputHeight + iy) * p.InputWidth + ix) * channels, channels).CopyTo(window);
                            else
                                window.Clear();
                        }
                    }
                }
            }
        }
    }

    private readonly struct Call(CpuConv2D op, RowRange rows) : IActivationConsumer
    {
        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            if (op._packed is not null)
            {
                Pointwise(activation);
                return;
            }
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

        private void Pointwise<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            var packed = op._packed!;
            int blocks = op._pixelBlocks, groups = op._panelGroups, pixels = op._pointwise.Pixels;
            var residual = op._residual is null ? default : op._residual.Span;
            for (int row = rows.Start; row < rows.End;)
            {
                int group = row / blocks, block = row - group * blocks;
                int lastBlock = Math.Min(blocks, block + rows.End - row);
                var pixelRange = new RowRange(block * PointwiseConvKernels.PixelBlock,
                                              Math.Min(pixels, lastBlock * PointwiseConvKernels.PixelBlock));
                var panelRange = new RowRange(group * packed.PanelCount / groups, (group + 1) * packed.PanelCount / groups);
                var input = op._patches is null ? op.Input.Span : op._patches.Span;
                PointwiseConvKernels.Nhwc(input, packed, residual, op.Output.Span, in op._pointwise, activation,
                                          pixelRange, panelRange);
                row += lastBlock - block;
            }
        }
    }
}
