using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tensors;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>Fused squeeze-and-excitation; rows are images, each with its own scratch so threads never share it.</summary>
internal sealed class CpuSqueezeExcitation : CpuOp
{
    private readonly SqueezeExcitationParams _params;
    private readonly Tensor _reduceKernel, _reduceBias, _expandKernel, _expandBias;
    private readonly float[] _scratch;
    private readonly ActivationFunction _reduceActivation;

    public CpuSqueezeExcitation(SqueezeExcitationOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 4)
    {
        var i = Input.Shape;
        if (i.Rank != 4) throw Fail($"expected an NHWC input, got {i}");
        ExpectShape(Output.Shape, i, "output");
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
        _scratch = new float[i.Batch * _params.ScratchLength];
    }

    protected override int RowCount => Input.Shape.Batch;

    public override void Execute(RowRange rows)
    {
        var call = new Call(this, rows);
        ActivationDispatch.Dispatch(_reduceActivation, ref call);
    }

    private readonly struct Call(CpuSqueezeExcitation op, RowRange rows) : IActivationConsumer
    {
        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            int imageLength = op._params.Pixels * op._params.Channels, scratchLength = op._params.ScratchLength;
            for (int n = rows.Start; n < rows.End; n++)
            {
                SqueezeExcitationKernels.Forward(op.Input.Span.Slice(n * imageLength, imageLength),
                    op._reduceKernel.Span, op._reduceBias.Span, op._expandKernel.Span, op._expandBias.Span,
                    op.Output.Span.Slice(n * imageLength, imageLength),
                    op._scratch.AsSpan(n * scratchLength, scratchLength), in op._params, activation);
            }
        }
    }
}
