using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// A layer whose training forward is its inference op (it reads no weights that change, or none at all): an
/// activation, a frozen affine, a sum, a product, a copy, padding, cropping, pooling, concatenation. Subclasses give
/// the backward pass.
/// </summary>
internal abstract class TrainingOverInference : CpuTrainingOp
{
    private readonly IPreparedOp _forward;

    protected TrainingOverInference(IPreparedOp forward, TrainingBinding binding, WorkerPool pool, int inputCount) : base(binding, pool, inputCount) =>
        _forward = forward;

    public override void Forward(bool training) => _forward.Run();

    public override void Dispose() => _forward.Dispose();
}

/// <summary>
/// An activation layer: <c>dX += act'(x, y) · dY</c> (softmax over the last axis). Element-wise gradients run in blocks
/// of <see cref="BlockLength"/> values split between the pool's threads, each through a block on the stack, so the layer
/// holds no tensor-sized scratch; softmax (rows) keeps one.
/// </summary>
internal sealed class TrainingActivation : TrainingOverInference
{
    // 4 KiB of scratch on the stack per block: it stays in L1 between the gradient and the add.
    private const int BlockLength = 1024;

    private readonly ActivationFunction _activation;
    private readonly Tensor? _rowScratch;
    private readonly RowWork _blocks;

    public TrainingActivation(ActivationOp op, IPreparedOp forward, TrainingBinding binding, WorkerPool pool) : base(forward, binding, pool, 1)
    {
        _activation = op.Activation;
        if (_activation.Kind == ActivationKind.Softmax) _rowScratch = new Tensor(binding.Output.Shape);
        _blocks = new RowWork(Blocks);
    }

    public override void Backward()
    {
        if (InputGradient is not { } dx) return;
        if (_rowScratch is { } scratch)
        {
            ActivationGradients.Backward(_activation, Input.Span, Output.Span, OutputGradient.Span, scratch.Span, Output.Shape.Channels);
            ElementwiseBackwardKernels.Accumulate(scratch.Span, dx.Span);
            return;
        }
        Pool.Run(_blocks, (Output.Length + BlockLength - 1) / BlockLength, minRowsPerChunk: 16);
    }

    private void Blocks(RowRange blocks)
    {
        Span<float> scratch = stackalloc float[BlockLength];
        int length = Output.Length;
        for (int b = blocks.Start; b < blocks.End; b++)
        {
            int start = b * BlockLength, count = Math.Min(BlockLength, length - start);
            var block = scratch[..count];
            ActivationGradients.Backward(_activation, Input.Span.Slice(start, count), Output.Span.Slice(start, count),
                                         OutputGradient.Span.Slice(start, count), block, count);
            var dx = InputGradient!.Span.Slice(start, count);
            ElementwiseBackwardKernels.Accumulate(block, dx);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _rowScratch?.Dispose();
    }
}

/// <summary>A per-channel affine with fixed scale (a frozen BatchNormalization, Rescaling, Normalization): <c>dX += dY · scale</c>.</summary>
internal sealed class TrainingChannelAffine : TrainingOverInference
{
    private readonly float[] _scale;

    public TrainingChannelAffine(ChannelAffineOp op, IPreparedOp forward, TrainingBinding binding, WorkerPool pool) : base(forward, binding, pool, 1)
    {
        if (op.Activation.Kind != ActivationKind.Linear) throw Fail($"a channel affine with a fused {op.Activation.Kind} is not trained; build the plan unfused");
        _scale = op.Scale;
        if (_scale.Length != Input.Shape.Channels) throw Fail($"expected {Input.Shape.Channels} scales, got {_scale.Length}");
    }

    public override void Backward()
    {
        if (InputGradient is not { } dx) return;
        int channels = _scale.Length;
        Span<float> dxs = dx.Span;
        ReadOnlySpan<float> dys = OutputGradient.Span;
        for (int start = 0; start < dys.Length; start += channels)
            TensorPrimitives.FusedMultiplyAdd(dys.Slice(start, channels), _scale, dxs.Slice(start, channels), dxs.Slice(start, channels));
    }
}

/// <summary>A sum of inputs: every input gets <c>dY</c>.</summary>
internal sealed class TrainingAdd(IPreparedOp forward, TrainingBinding binding, WorkerPool pool) : TrainingOverInference(forward, binding, pool, -1)
{
    public override void Backward()
    {
        foreach (var dx in InputGradients)
            if (dx is not null) ElementwiseBackwardKernels.Add(OutputGradient.Span, dx.Span, accumulate: true);
    }
}

/// <summary>A copy with another shape (Flatten, Reshape, Dropout at inference): <c>dX += dY</c>, value for value.</summary>
internal sealed class TrainingCopy(IPreparedOp forward, TrainingBinding binding, WorkerPool pool) : TrainingOverInference(forward, binding, pool, 1)
{
    public override void Backward()
    {
        if (InputGradient is { } dx) ElementwiseBackwardKernels.Add(OutputGradient.Span, dx.Span, accumulate: true);
    }
}

/// <summary>
/// A product of two inputs of one shape (<c>dA += dY·B</c>, <c>dB += dY·A</c>), or squeeze-and-excitation's
/// <c>(N, H, W, C) · (N, 1, 1, C)</c>: <c>dA += dY · s</c>, <c>dS[n, c] += Σ_hw dY · A</c>.
/// </summary>
internal sealed class TrainingMultiply : TrainingOverInference
{
    private readonly bool _perChannel;
    private readonly int _pixelsPerImage, _channels;

    public TrainingMultiply(IPreparedOp forward, TrainingBinding binding, WorkerPool pool) : base(forward, binding, pool, 2)
    {
        TensorShape left = Inputs[0].Shape, right = Inputs[1].Shape;
        _perChannel = left != right;
        _channels = left.Channels;
        _pixelsPerImage = _perChannel ? left.Height * left.Width : 0;
    }

    public override void Backward()
    {
        ReadOnlySpan<float> dy = OutputGradient.Span, a = Inputs[0].Span, b = Inputs[1].Span;
        Span<float> da = InputGradients[0] is { } left ? left.Span : default, db = InputGradients[1] is { } right ? right.Span : default;
        if (!_perChannel)
        {
            ElementwiseBackwardKernels.Multiply(dy, a, b, da, db, accumulate: true);
            return;
        }
        int c = _channels, imageLength = _pixelsPerImage * c;
        for (int n = 0; n < Inputs[1].Shape.Batch; n++)
            ElementwiseBackwardKernels.MultiplyByChannel(dy.Slice(n * imageLength, imageLength), a.Slice(n * imageLength, imageLength), b.Slice(n * c, c),
                                                         da.IsEmpty ? default : da.Slice(n * imageLength, imageLength),
                                                         db.IsEmpty ? default : db.Slice(n * c, c), accumulate: true);
    }
}

/// <summary>
/// Zero padding (<c>dX += dY</c> inside the border) and cropping (<c>dX += dY</c> into the kept window): the same
/// window between a larger and a smaller NHWC tensor, in opposite directions.
/// </summary>
internal sealed class TrainingWindowCopy : TrainingOverInference
{
    private readonly Padding2D _border;
    private readonly bool _outputIsLarger;

    public TrainingWindowCopy(Padding2D border, bool outputIsLarger, IPreparedOp forward, TrainingBinding binding, WorkerPool pool)
        : base(forward, binding, pool, 1)
    {
        _border = border;
        _outputIsLarger = outputIsLarger;
    }

    public override void Backward()
    {
        if (InputGradient is not { } dx) return;
        if (_outputIsLarger)
        {
            var i = dx.Shape;
            var padding = new ZeroPadding2DParams(i.Batch, i.Height, i.Width, i.Channels, _border);
            ElementwiseBackwardKernels.ZeroPadding2D(OutputGradient.Span, dx.Span, in padding, RowRange.All(i.Batch * i.Height), accumulate: true);
            return;
        }
        // Cropping: the kept window of the input gradient gets dY, row by row.
        var large = _outputIsLarger ? OutputGradient.Shape : dx.Shape;
        var small = _outputIsLarger ? dx.Shape : OutputGradient.Shape;
        int rowLength = small.Width * small.Channels;
        for (int n = 0; n < small.Batch; n++)
            for (int y = 0; y < small.Height; y++)
            {
                int smallAt = ((n * small.Height + y) * small.Width) * small.Channels;
                int largeAt = ((n * large.Height + y + _border.Top) * large.Width + _border.Left) * large.Channels;
                ReadOnlySpan<float> from = _outputIsLarger ? OutputGradient.Span.Slice(largeAt, rowLength) : OutputGradient.Span.Slice(smallAt, rowLength);
                var to = _outputIsLarger ? dx.Span.Slice(smallAt, rowLength) : dx.Span.Slice(largeAt, rowLength);
                ElementwiseBackwardKernels.Accumulate(from, to);
            }
    }
}

/// <summary>Concatenation along an axis: each input gets its slab of <c>dY</c> back.</summary>
internal sealed class TrainingConcatenate : TrainingOverInference
{
    private readonly int _outer, _outputSlab;
    private readonly int[] _slabs;

    public TrainingConcatenate(ConcatenateOp op, IPreparedOp forward, TrainingBinding binding, WorkerPool pool) : base(forward, binding, pool, -1)
    {
        long outer = 1;
        for (int d = 0; d < op.Axis; d++) outer *= Output.Shape[d];
        _outer = (int)outer;
        _slabs = new int[Inputs.Length];
        for (int i = 0; i < Inputs.Length; i++) _slabs[i] = Inputs[i].Length / _outer;
        _outputSlab = Output.Length / _outer;
    }

    public override void Backward()
    {
        int offset = 0;
        for (int i = 0; i < Inputs.Length; i++)
        {
            if (InputGradients[i] is { } dx)
                for (int r = 0; r < _outer; r++)
                {
                    ElementwiseBackwardKernels.Accumulate(OutputGradient.Span.Slice(r * _outputSlab + offset, _slabs[i]), dx.Span.Slice(r * _slabs[i], _slabs[i]));
                }
            offset += _slabs[i];
        }
    }
}

/// <summary>
/// Global pooling (<see cref="PoolingBackwardKernels"/>): the average spreads <c>dY / (H·W)</c> over the image; the
/// maximum gives <c>dY</c> to the cells equal to it, split evenly among ties, as TensorFlow's <c>reduce_max</c> gradient.
/// </summary>
internal sealed class TrainingGlobalPooling2D(GlobalPooling2DOp op, IPreparedOp forward, TrainingBinding binding, WorkerPool pool)
    : TrainingOverInference(forward, binding, pool, 1)
{
    // One image's gradient at a time: squeeze-and-excitation pools every expanded block output, and a batch-sized
    // scratch per layer would hold as much memory again as those outputs.
    private readonly Tensor _scratch = new(binding.Inputs[0].Shape.WithBatch(1));

    public override void Backward()
    {
        if (InputGradient is not { } dx) return;
        var shape = Input.Shape;
        int c = shape.Channels, pixels = shape.Height * shape.Width, image = pixels * c;
        var to = _scratch.Span[..image];
        for (int n = 0; n < shape.Batch; n++)
        {
            var dy = OutputGradient.Span.Slice(n * c, c);
            if (op.Mode == PoolingMode.Average) PoolingBackwardKernels.GlobalAveragePool(dy, to, pixels);
            else PoolingBackwardKernels.GlobalMaxPool(Input.Span.Slice(n * image, image), Output.Span.Slice(n * c, c), dy, to, pixels);
            ElementwiseBackwardKernels.Accumulate(to, dx.Span.Slice(n * image, image));
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _scratch.Dispose();
    }
}

/// <summary>
/// Windowed pooling (<see cref="PoolingBackwardKernels"/>, by input rows): the maximum routes each window's <c>dY</c>
/// to its first maximal cell in row-major order (TensorFlow's <c>MaxPoolGrad</c>); the average spreads it over the
/// window's in-bounds cells (padded cells are not counted).
/// </summary>
internal sealed class TrainingPooling2D : TrainingOverInference
{
    private readonly Pooling2DParams _params;
    private readonly bool _max;
    private readonly Tensor _scratch;
    private readonly RowWork _backward;

    public TrainingPooling2D(Pooling2DOp op, IPreparedOp forward, TrainingBinding binding, WorkerPool pool) : base(forward, binding, pool, 1)
    {
        if (op.PaddedCellsAreZeros && op.Mode != PoolingMode.Max) throw Fail("padded cells count as zeros only for max pooling");
        TensorShape i = Input.Shape, o = Output.Shape;
        _params = new Pooling2DParams(i.Batch, i.Height, i.Width, i.Channels, o.Height, o.Width,
            op.PoolHeight, op.PoolWidth, op.StrideHeight, op.StrideWidth, op.Padding.Top, op.Padding.Left, op.PaddedCellsAreZeros);
        _max = op.Mode == PoolingMode.Max;
        _scratch = new Tensor(i);
        _backward = new RowWork(rows =>
        {
            if (_max) PoolingBackwardKernels.MaxPool(Input.Span, OutputGradient.Span, _scratch.Span, in _params, rows);
            else PoolingBackwardKernels.AveragePool(OutputGradient.Span, _scratch.Span, in _params, rows);
        });
    }

    public override void Backward()
    {
        if (InputGradient is not { } dx) return;
        Pool.Run(_backward, PoolingBackwardKernels.InputRowCount(in _params));
        ElementwiseBackwardKernels.Accumulate(_scratch.Span, dx.Span);
    }

    public override void Dispose()
    {
        base.Dispose();
        _scratch.Dispose();
    }
}
