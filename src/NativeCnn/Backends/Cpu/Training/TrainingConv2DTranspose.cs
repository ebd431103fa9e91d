using NativeCnn.Backends.Cpu.Kernels;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// A transposed convolution in training, written over the convolution's own backward kernels: a transposed convolution
/// from <c>X</c> to <c>Y</c> is the input gradient of the convolution <c>A</c> from <c>Y</c>-shaped tensors to
/// <c>X</c>-shaped ones with the same kernel (Keras's <c>(kh, kw, filters, in)</c> layout is <c>A</c>'s HWIO kernel) and pads.
/// So forward is <see cref="Conv2DBackwardKernels.InputGradient"/> of <c>A</c> (the kernel transposed once per step, as
/// weights are read live), backward's <c>dX = A(dZ)</c> is the implicit GEMM of a convolution forward, and
/// <c>dK</c> is <c>A</c>'s kernel gradient with <c>dZ</c> as its input and <c>X</c> as its output gradient.
/// </summary>
internal sealed class TrainingConv2DTranspose : CpuTrainingOp
{
    private readonly Conv2DParams _adjoint;
    private readonly ActivationStage _activation;
    private readonly float[] _transposedKernel;
    private readonly ConvTrainingSlices _slices;
    private readonly Tensor? _inputScratch;
    private readonly int _inputPixels, _outputPixels;
    private readonly bool _useBias;
    private readonly RowWork _forward, _inputGradient, _kernelGradient;
    private Tensor _dz;

    public TrainingConv2DTranspose(Conv2DTransposeOp op, TrainingBinding binding, WorkerPool pool) : base(binding, pool, 1)
    {
        var i = Input.Shape;
        if (i.Rank != 4) throw Fail($"expected an NHWC input, got {i}");
        if (op.PadTop < 0 || op.PadLeft < 0 || op.PadTop >= op.KernelHeight || op.PadLeft >= op.KernelWidth)
            throw Fail($"pads {op.PadTop}, {op.PadLeft} must lie in [0, kernel) for a {op.KernelHeight}x{op.KernelWidth} kernel");
        ExpectShape(Output.Shape, TensorShape.Nhwc(i.Batch, op.OutputHeight, op.OutputWidth, op.Filters), "output");
        ExpectShape(Weights[0].Shape, new TensorShape(op.KernelHeight, op.KernelWidth, op.Filters, i.Channels), "kernel");
        _useBias = op.UseBias;
        if (_useBias && (Weights.Count < 2 || Weights[1].Length != op.Filters)) throw Fail($"expected a bias of {op.Filters} values");
        _adjoint = new Conv2DParams(i.Batch, op.OutputHeight, op.OutputWidth, op.Filters, i.Height, i.Width, i.Channels,
            op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth, 1, 1, op.PadTop, op.PadLeft);
        _activation = new ActivationStage(LayerName, op.Activation, Output, binding.Output, pool);
        _inputPixels = checked(i.Batch * i.Height * i.Width);
        _outputPixels = checked(i.Batch * op.OutputHeight * op.OutputWidth);
        _slices = new ConvTrainingSlices(in _adjoint, checked(op.KernelHeight * op.KernelWidth * op.Filters), Weights[0].Length, pool.ThreadCount);
        _transposedKernel = new float[Weights[0].Length];
        if (InputGradient is not null) _inputScratch = new Tensor(i);
        _dz = OutputGradient;
        _forward = new RowWork(ForwardRows);
        _inputGradient = new RowWork(InputGradientSlices);
        _kernelGradient = new RowWork(KernelGradientSlices);
    }

    public override void Forward(bool training)
    {
        Conv2DBackwardKernels.TransposeKernel(Weights[0].Span, _transposedKernel, in _adjoint);
        Pool.Run(_forward, Conv2DBackwardKernels.InputRowCount(in _adjoint));
        _activation.Run();
    }

    // Output rows of the transposed convolution are the input rows of A: each is written by one thread, then biased.
    private void ForwardRows(RowRange rows)
    {
        var z = _activation.PreActivation.Span;
        Conv2DBackwardKernels.InputGradient(Input.Span, _transposedKernel, z, in _adjoint, rows, accumulate: false);
        if (!_useBias) return;
        int filters = _adjoint.InputChannels, rowLength = _adjoint.InputWidth * filters;
        var bias = Weights[1].Span;
        for (int at = rows.Start * rowLength; at < rows.End * rowLength; at += filters)
            TensorPrimitives.Add(z.Slice(at, filters), bias, z.Slice(at, filters));
    }

    public override void Backward()
    {
        _dz = _activation.Backward(OutputGradient);
        if (InputGradient is { } dx)
        {
            Pool.Run(_inputGradient, _slices.Count);
            ElementwiseBackwardKernels.Accumulate(_inputScratch!.Span, dx.Span);
        }
        if (WeightGradients[0] is { } kernel)
        {
            Pool.Run(_kernelGradient, _slices.Count);
            _slices.AddKernelGradient(kernel.Span);
        }
        if (_useBias && WeightGradients.Count > 1 && WeightGradients[1] is { } bias)
            DenseBackwardKernels.BiasGradient(_dz.Span, bias.Span, _outputPixels, accumulate: true);
    }

    // dX = A(dZ): the implicit GEMM of A's forward over dZ's patches.
    private void InputGradientSlices(RowRange slices)
    {
        for (int t = slices.Start; t < slices.End; t++)
            _slices.MultiplyPatches(_dz.Span, Weights[0].Span, default, _inputScratch!.Span, in _adjoint, _inputPixels, t);
    }

    // dK: A's kernel gradient with dZ as its input and X as its output gradient.
    private void KernelGradientSlices(RowRange slices)
    {
        for (int t = slices.Start; t < slices.End; t++) _slices.KernelGradient(_dz.Span, Input.Span, in _adjoint, t);
    }

    public override void Dispose()
    {
        _activation.Dispose();
        _inputScratch?.Dispose();
    }
}
