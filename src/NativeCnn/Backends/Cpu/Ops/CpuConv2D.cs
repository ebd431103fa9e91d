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
    private readonly Tensor? _subsampled;

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

        if (op.KernelHeight == 1 && op.KernelWidth == 1 && op.DilationHeight == 1 && op.DilationWidth == 1
            && op.Padding.Top == 0 && op.Padding.Bottom == 0 && op.Padding.Left == 0 && op.Padding.Right == 0)
        {
            // A strided 1x1 (ResNet's downsampling shortcut and first bottleneck conv) reads every s-th pixel: those are
            // gathered into a dense buffer first, so the same packed GEMM runs on it.
            if (op.StrideHeight != 1 || op.StrideWidth != 1) _subsampled = new Tensor(TensorShape.Nhwc(i.Batch, outH, outW, i.Channels));
            _packed = new PackedPointwiseWeights(_kernel.Span, _bias is null ? default : _bias.Span, i.Channels, op.Filters);
            _pointwise = new PointwiseConvParams(i.Batch * outH * outW, i.Channels, op.Filters);
            _pixelBlocks = (_pointwise.Pixels + PointwiseConvKernels.PixelBlock - 1) / PointwiseConvKernels.PixelBlock;
            // Few pixels (7x7 maps) leave too few blocks to share: the output channels are then split into panel groups too.
            _panelGroups = Math.Clamp((MinPointwiseRows + _pixelBlocks - 1) / _pixelBlocks, 1, _packed.PanelCount);
        }
    }

    /// <summary>
    /// Direct convolutions: one row per output row of each image. Pointwise ones: panel group × pixel block, group-major,
    /// so a contiguous row range within one group is a single kernel call over consecutive pixels.
    /// </summary>
    protected override int RowCount => _packed is null ? _params.RowCount : _pixelBlocks * _panelGroups;

    public override void Execute(RowRange rows)
    {
        var call = new Call(this, rows);
        ActivationDispatch.Dispatch(_activation, ref call);
    }

    public override void Run()
    {
        if (_subsampled is not null) Subsample();
        base.Run();
    }

    public override void Dispose()
    {
        _packed?.Dispose();
        _subsampled?.Dispose();
    }

    /// <summary>Copies the input pixels a strided 1x1 convolution reads into <see cref="_subsampled"/>, one channel vector each.</summary>
    private void Subsample()
    {
        var p = _params;
        var source = Input.Span;
        var target = _subsampled!.Span;
        int channels = p.InputChannels;
        for (int n = 0, t = 0; n < p.Batch; n++)
        {
            for (int y = 0; y < p.OutputHeight; y++)
            {
                int rowStart = ((n * p.InputHeight + y * p.StrideHeight) * p.InputWidth) * channels;
                for (int x = 0; x < p.OutputWidth; x++, t += channels)
                    source.Slice(rowStart + x * p.StrideWidth * channels, channels).CopyTo(target.Slice(t, channels));
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
                var input = op._subsampled is null ? op.Input.Span : op._subsampled.Span;
                PointwiseConvKernels.Nhwc(input, packed, residual, op.Output.Span, in op._pointwise, activation,
                                          pixelRange, panelRange);
                row += lastBlock - block;
            }
        }
    }
}
