using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Ops;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// Up-sampling (<see cref="ElementwiseBackwardKernels"/>): nearest gathers each input pixel's block of <c>dY</c> by input
/// rows; bilinear scatters <c>dY</c> to the four neighbours each output pixel sampled, one image per thread.
/// </summary>
internal sealed class TrainingUpSampling2D : TrainingOverInference
{
    private readonly UpSampling2DParams _params;
    private readonly BilinearAxis? _rows, _columns;
    private readonly RowWork _backward;

    public TrainingUpSampling2D(UpSampling2DOp op, IPreparedOp forward, TrainingBinding binding, WorkerPool pool) : base(forward, binding, pool, 1)
    {
        var i = Input.Shape;
        _params = new UpSampling2DParams(i.Batch, i.Height, i.Width, i.Channels, op.HeightFactor, op.WidthFactor);
        if (op.Interpolation == Interpolation.Bilinear && i.Height > 0 && i.Width > 0)
        {
            _rows = new BilinearAxis(i.Height, op.HeightFactor);
            _columns = new BilinearAxis(i.Width, op.WidthFactor);
        }
        _backward = _rows is null
            ? new RowWork(rows => ElementwiseBackwardKernels.UpSampling2DNearest(OutputGradient.Span, InputGradient!.Span, in _params, rows, accumulate: true))
            : new RowWork(images => ElementwiseBackwardKernels.UpSampling2DBilinear(OutputGradient.Span, InputGradient!.Span, in _params, _rows, _columns!, images, accumulate: true));
    }

    public override void Backward()
    {
        if (InputGradient is null) return;
        Pool.Run(_backward, _rows is null ? _params.Batch * _params.InputHeight : _params.Batch);
    }
}

/// <summary>
/// Layer normalization over the last axis (<see cref="LayerNormalizationBackwardKernels"/>): forward is the inference op
/// (it reads gamma and beta live); backward recomputes each row's statistics, by slices of rows, each slice summing
/// its own partial gamma and beta gradients, added at the end.
/// </summary>
internal sealed class TrainingLayerNormalization : TrainingOverInference
{
    private readonly LayerNormalizationOp _op;
    private readonly int _length, _rowCount, _slices;
    private readonly float[][] _gammaPartials, _betaPartials;
    private readonly RowWork _backward;

    public TrainingLayerNormalization(LayerNormalizationOp op, IPreparedOp forward, TrainingBinding binding, WorkerPool pool) : base(forward, binding, pool, 1)
    {
        _op = op;
        _length = Input.Shape.Channels;
        _rowCount = Input.Length / _length;
        _slices = Math.Max(1, Math.Min(pool.ThreadCount, _rowCount));
        _gammaPartials = new float[_slices][];
        _betaPartials = new float[_slices][];
        for (int t = 0; t < _slices; t++)
        {
            _gammaPartials[t] = GammaGradient is null ? [] : new float[_length];
            _betaPartials[t] = BetaGradient is null ? [] : new float[_length];
        }
        _backward = new RowWork(BackwardSlices);
    }

    private Tensor? GammaGradient => _op.Scale ? WeightGradients[0] : null;

    private Tensor? BetaGradient => _op.Center ? WeightGradients[_op.Scale ? 1 : 0] : null;

    public override void Backward()
    {
        Pool.Run(_backward, _slices);
        if (GammaGradient is { } gamma) AddPartials(gamma.Span, _gammaPartials, _slices);
        if (BetaGradient is { } beta) AddPartials(beta.Span, _betaPartials, _slices);
    }

    private void BackwardSlices(RowRange slices)
    {
        var gamma = _op.Scale ? Weights[0].Span : default;
        var dx = InputGradient is null ? default : InputGradient.Span;
        for (int t = slices.Start; t < slices.End; t++)
        {
            _gammaPartials[t].AsSpan().Clear();
            _betaPartials[t].AsSpan().Clear();
            LayerNormalizationBackwardKernels.Backward(Input.Span, OutputGradient.Span, gamma, _length, _op.Epsilon, dx,
                                                       _gammaPartials[t], _betaPartials[t], Slice(_rowCount, _slices, t), accumulate: true);
        }
    }
}

/// <summary>
/// PReLU in training. Forward broadcasts the live slopes to whole rows (no allocation) and runs the element-wise PReLU;
/// backward gives <c>dX</c> and the slope gradient by rows (<see cref="ElementwiseBackwardKernels.PRelu"/>), summed back
/// over the shared axes.
/// </summary>
internal sealed class TrainingPRelu : CpuTrainingOp
{
    private readonly float[] _alphaRows, _alphaRowGradient;
    private readonly int _rowLength, _rowsPerImage, _alphaRowCount;
    private readonly RowWork _forward;

    public TrainingPRelu(TrainingBinding binding, WorkerPool pool) : base(binding, pool, 1)
    {
        ExpectShape(Output.Shape, Input.Shape, "output");
        if (Weights.Count != 1) throw Fail($"expected one weight (alpha), got {Weights.Count}");
        if (!CpuPRelu.TryLayout(Input.Shape, Weights[0].Shape, out _rowLength, out _rowsPerImage, out _alphaRowCount))
            throw Fail($"alpha {Weights[0].Shape} does not broadcast over a sample of {Input.Shape} (each axis the input's size or 1)");
        _alphaRows = new float[(long)_alphaRowCount * _rowLength];
        _alphaRowGradient = WeightGradients[0] is null ? [] : new float[_alphaRows.Length];
        _forward = new RowWork(ForwardRows);
    }

    private int RowCount => _rowLength == 0 ? 0 : Output.Length / _rowLength;

    private Span<float> AlphaRow(Span<float> rows, int row) => rows.Slice((_alphaRowCount == 1 ? 0 : row % _rowsPerImage) * _rowLength, _rowLength);

    public override void Forward(bool training)
    {
        CpuPRelu.BroadcastRows(Weights[0].Span, Weights[0].Shape, Input.Shape, _alphaRows);
        Pool.Run(_forward, RowCount);
    }

    private void ForwardRows(RowRange rows)
    {
        for (int r = rows.Start; r < rows.End; r++)
            ElementwiseKernels.PRelu(Input.Span.Slice(r * _rowLength, _rowLength), AlphaRow(_alphaRows, r), Output.Span.Slice(r * _rowLength, _rowLength));
    }

    public override void Backward()
    {
        var alphaGradient = WeightGradients[0];
        if (InputGradient is null && alphaGradient is null) return;
        _alphaRowGradient.AsSpan().Clear();
        for (int r = 0; r < RowCount; r++)
        {
            int at = r * _rowLength;
            ElementwiseBackwardKernels.PRelu(OutputGradient.Span.Slice(at, _rowLength), Input.Span.Slice(at, _rowLength), AlphaRow(_alphaRows, r),
                                             InputGradient is null ? default : InputGradient.Span.Slice(at, _rowLength),
                                             alphaGradient is null ? default : AlphaRow(_alphaRowGradient, r), accumulate: true);
        }
        if (alphaGradient is not null) CpuPRelu.FoldRows(_alphaRowGradient, Weights[0].Shape, Input.Shape, alphaGradient.Span);
    }
}

/// <summary>Permute: <c>dX += dY</c> permuted back, by the inference gather with the inverse permutation into a scratch tensor.</summary>
internal sealed class TrainingPermute : TrainingOverInference
{
    private readonly Tensor? _scratch;
    private readonly CpuPermute? _inverse;

    public TrainingPermute(PermuteOp op, IPreparedOp forward, TrainingBinding binding, WorkerPool pool) : base(forward, binding, pool, 1)
    {
        if (InputGradient is null) return;
        var inverse = new int[op.Dims.Count];
        for (int i = 0; i < inverse.Length; i++)
        {
            int axis = op.Dims[i] - 1;
            if (axis < 0 || axis >= inverse.Length) throw Fail($"dims ({string.Join(", ", op.Dims)}) are not a permutation of 1..{inverse.Length}");
            inverse[axis] = i + 1;
        }
        _scratch = new Tensor(Input.Shape);
        _inverse = new CpuPermute(new PermuteOp(inverse), new OpBinding(LayerName, [binding.OutputGradient], new HostBuffer(_scratch), []), pool);
    }

    public override void Backward()
    {
        if (InputGradient is not { } dx) return;
        _inverse!.Run();
        ElementwiseBackwardKernels.Accumulate(_scratch!.Span, dx.Span);
    }

    public override void Dispose()
    {
        base.Dispose();
        _inverse?.Dispose();
        _scratch?.Dispose();
    }
}

/// <summary>
/// Subtract, Maximum, Minimum and Average. Subtract gives <c>dY</c> and <c>−dY</c>, Average <c>dY / n</c> to each input.
/// Maximum and minimum are chains of two-input steps, <c>m = max(max(x0, x1), x2)…</c>, as Keras computes them, and go back
/// through the chain as TensorFlow's <c>MaximumGrad</c> does: each step gives its gradient to the running result where it is
/// <c>≥</c> the next input (<c>≤</c> for the minimum), ties included, else to that input; so the first of tied inputs gets it all.
/// </summary>
internal sealed class TrainingMerge : TrainingOverInference
{
    private readonly MergeMode _mode;
    private readonly Tensor? _gradient, _running, _routed;

    public TrainingMerge(MergeOp op, IPreparedOp forward, TrainingBinding binding, WorkerPool pool)
        : base(forward, binding, pool, op.Mode == MergeMode.Subtract ? 2 : -1)
    {
        _mode = op.Mode;
        if (Inputs.Length < 2) throw Fail($"a merge takes at least 2 inputs, got {Inputs.Length}");
        foreach (var input in Inputs) ExpectShape(input.Shape, Output.Shape, "merged input");
        if (_mode is MergeMode.Maximum or MergeMode.Minimum)
        {
            _gradient = new Tensor(Output.Shape);
            _routed = new Tensor(Output.Shape);
            if (Inputs.Length > 2) _running = new Tensor(Output.Shape);
        }
    }

    public override void Backward()
    {
        var dy = OutputGradient.Span;
        switch (_mode)
        {
            case MergeMode.Subtract:
                ElementwiseBackwardKernels.Subtract(dy, InputGradients[0] is { } d0 ? d0.Span : default,
                                                    InputGradients[1] is { } d1 ? d1.Span : default, accumulate: true);
                return;
            case MergeMode.Average:
                float share = 1f / Inputs.Length;
                foreach (var dx in InputGradients)
                    if (dx is not null) TensorPrimitives.MultiplyAdd(dy, share, dx.Span, dx.Span);
                return;
            default:
                Extremum(_mode == MergeMode.Maximum);
                return;
        }
    }

    private void Extremum(bool maximum)
    {
        var g = _gradient!.Span;
        OutputGradient.Span.CopyTo(g);
        for (int i = Inputs.Length - 1; i >= 1; i--)
        {
            // The running result before input i: x0 for the first step, else recomputed as the forward chain computed it.
            ReadOnlySpan<float> running = Inputs[0].Span;
            if (i > 1)
            {
                var r = _running!.Span;
                if (maximum) ElementwiseKernels.Maximum(Inputs[0].Span, Inputs[1].Span, r);
                else ElementwiseKernels.Minimum(Inputs[0].Span, Inputs[1].Span, r);
                for (int j = 2; j < i; j++)
                    if (maximum) ElementwiseKernels.Maximum(r, Inputs[j].Span, r);
                    else ElementwiseKernels.Minimum(r, Inputs[j].Span, r);
                running = r;
            }
            var routed = InputGradients[i] is null ? default : _routed!.Span;
            ElementwiseBackwardKernels.Extremum(g, running, Inputs[i].Span, g, routed, maximum);
            if (InputGradients[i] is { } dx) ElementwiseBackwardKernels.Accumulate(routed, dx.Span);
        }
        if (InputGradients[0] is { } d0) ElementwiseBackwardKernels.Accumulate(g, d0.Span);
    }

    public override void Dispose()
    {
        base.Dispose();
        _gradient?.Dispose();
        _running?.Dispose();
        _routed?.Dispose();
    }
}
