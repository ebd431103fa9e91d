using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>Per-channel scale and shift (BatchNormalization, Rescaling, Normalization); rows are blocks of pixels.</summary>
internal sealed class CpuChannelAffine : CpuOp
{
    private const int PixelsPerRow = 64;
    private readonly float[] _scale, _shift;
    private readonly ActivationFunction _activation;
    private readonly int _channels, _pixels;

    public CpuChannelAffine(ChannelAffineOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 0)
    {
        _channels = Input.Shape.Channels;
        if (op.Scale.Length != _channels || op.Shift.Length != _channels)
            throw Fail($"expected {_channels} scale and shift values, got {op.Scale.Length} and {op.Shift.Length}");
        ExpectShape(Output.Shape, Input.Shape, "output");
        _scale = op.Scale;
        _shift = op.Shift;
        _activation = op.Activation;
        _pixels = Input.Length / Math.Max(1, _channels);
    }

    protected override int RowCount => (_pixels + PixelsPerRow - 1) / PixelsPerRow;

    public override void Execute(RowRange rows)
    {
        var call = new Call(this, rows);
        ActivationDispatch.Dispatch(_activation, ref call);
    }

    private readonly struct Call(CpuChannelAffine op, RowRange rows) : IActivationConsumer
    {
        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation
        {
            int start = rows.Start * PixelsPerRow * op._channels;
            int end = Math.Min(op._pixels, rows.End * PixelsPerRow) * op._channels;
            ElementwiseKernels.ChannelAffine(op.Input.Span[start..end], op._scale, op._shift, op.Output.Span[start..end], activation);
        }
    }
}
