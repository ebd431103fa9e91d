using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// Fused squeeze-and-excitation in three pool runs, so that one image uses every thread: the squeeze over pixel blocks,
/// the two tiny matrix-vector products per image, then the per-channel scale over pixel rows (the op's own rows). With
/// <see cref="SqueezeExcitationOp.ExcitationOnly"/> the excitation is the output and the scale phase is left to the next
/// convolution.
/// </summary>
internal sealed class CpuSqueezeExcitation : CpuOp
{
    // Enough blocks to share the squeeze among threads, few enough that combining them is cheap; a fixed count (not
    // the thread count) keeps the result the same on any number of threads.
    private const int MaxSqueezeBlocks = 4;

    private readonly SqueezeExcitationParams _params;
    private readonly Tensor _reduceKernel, _reduceBias, _expandKernel, _expandBias;
    private readonly int _batch, _height, _blocks;
    private readonly float[] _partialMeans, _reduced, _excitation;
    private readonly ActivationFunction _reduceActivation;
    private readonly bool _excitationOnly;
    private readonly SqueezePhase _squeeze;
    private readonly ExcitePhase _excite;

    public CpuSqueezeExcitation(SqueezeExcitationOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 4)
    {
        var i = ExpectNhwcInput();
        _excitationOnly = op.ExcitationOnly;
        ExpectShape(Output.Shape, _excitationOnly ? TensorShape.Nhwc(i.Batch, 1, 1, i.Channels) : i, "output");
        int c = i.Channels, r = op.ReducedChannels;
        _reduceKernel = binding.Weights[0];
        _reduceBias = binding.Weights[1];
        _expandKernel = binding.Weights[2];
        _expandBias = binding.Weights[3];
        ExpectLength(_reduceKernel, (long)c * r, "reduce kernel");
        ExpectLength(_reduceBias, r, "reduce bias");
        ExpectLength(_expandKernel, (long)r * c, "expand kernel");
        ExpectLength(_expandBias, c, "expand bias");
        _reduceActivation = op.ReduceActivation;
        _params = new SqueezeExcitationParams(i.Height * i.Width, c, r);
        _batch = i.Batch;
        _height = i.Height;
        _blocks = Math.Max(1, Math.Min(MaxSqueezeBlocks, _params.Pixels));
        _partialMeans = new float[_batch * _blocks * c];
        _reduced = new float[_batch * r];
        _excitation = _excitationOnly ? [] : new float[_batch * c];
        _squeeze = new SqueezePhase(this);
        _excite = new ExcitePhase(this);
    }

    protected override int RowCount => _batch * _height;

    public override void Run()
    {
        if (_params.Pixels == 0 || _batch == 0) return;
        Pool.Run(_squeeze, _batch * _blocks);
        Pool.Run(_excite, _batch);
        if (!_excitationOnly) base.Run();
    }

    /// <summary>Where the excite phase writes: the output itself when it is the excitation.</summary>
    private Span<float> Excitation => _excitationOnly ? Output.Span : _excitation;

    /// <summary>The scale phase: <c>output = input · e</c> on pixel rows, each image with its own excitation.</summary>
    public override void Execute(RowRange rows)
    {
        int c = _params.Channels, rowLength = _params.Pixels / _height * c;
        var input = Input.Span;
        var output = Output.Span;
        for (int row = rows.Start; row < rows.End; row++)
        {
            int n = row / _height;
            ElementwiseKernels.MultiplyByChannel(input.Slice(row * rowLength, rowLength), Excitation.Slice(n * c, c),
                                                 output.Slice(row * rowLength, rowLength));
        }
    }

    /// <summary>Rows are (image, pixel block) pairs; each writes its own partial mean.</summary>
    private sealed class SqueezePhase(CpuSqueezeExcitation op) : IRowWork
    {
        public void Execute(RowRange rows)
        {
            var p = op._params;
            int imageLength = p.Pixels * p.Channels;
            for (int row = rows.Start; row < rows.End; row++)
            {
                int n = row / op._blocks, block = row - n * op._blocks;
                SqueezeExcitationKernels.SqueezeBlock(op.Input.Span.Slice(n * imageLength, imageLength),
                    op._partialMeans.AsSpan(row * p.Channels, p.Channels), in p, op._blocks, block);
            }
        }
    }

    /// <summary>Rows are images: combine the partial means and run the reduce and expand convs.</summary>
    private sealed class ExcitePhase(CpuSqueezeExcitation op) : IRowWork
    {
        public void Execute(RowRange rows)
        {
            var call = new Call(op, rows);
            ActivationDispatch.Dispatch(op._reduceActivation, ref call);
        }
    }

    private readonly struct Call(CpuSqueezeExcitation op, RowRange rows) : IActivationConsumer
    {
        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            var p = op._params;
            int c = p.Channels, r = p.ReducedChannels, partialLength = op._blocks * c;
            for (int n = rows.Start; n < rows.End; n++)
            {
                SqueezeExcitationKernels.Excite(op._partialMeans.AsSpan(n * partialLength, partialLength),
                    op._reduceKernel.Span, op._reduceBias.Span, op._expandKernel.Span, op._expandBias.Span,
                    op._reduced.AsSpan(n * r, r), op.Excitation.Slice(n * c, c), in p, op._blocks, activation);
            }
        }
    }
}
