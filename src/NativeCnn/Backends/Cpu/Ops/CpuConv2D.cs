using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// A prepared 2-D convolution: the checks, tensors and epilogue every path shares. Each path is its own op, holding only
/// what it needs (<see cref="CpuPointwiseConv2D"/>, <see cref="CpuWinogradConv2D"/>, <see cref="CpuWindowsConv2D"/>,
/// <see cref="CpuImplicitGemmConv2D"/>); <see cref="Create"/> prepares the one <see cref="Conv2DPathSelector"/> picks.
/// </summary>
internal abstract class CpuConv2D : CpuOp
{
    private readonly ActivationFunction _activation;

    protected CpuConv2D(Conv2DOp op, OpBinding binding, WorkerPool pool, Conv2DPath path)
        : base(binding, pool, 1 + (op.AddsResidual ? 1 : 0) + (op.ScalesInputChannels ? 1 : 0), op.UseBias ? 2 : 1)
    {
        Path = path;
        var i = ExpectNhwcInput();
        int outH = WindowOutputSize("height", i.Height, op.Padding.Top, op.Padding.Bottom, op.KernelHeight, op.StrideHeight, op.DilationHeight);
        int outW = WindowOutputSize("width", i.Width, op.Padding.Left, op.Padding.Right, op.KernelWidth, op.StrideWidth, op.DilationWidth);
        ExpectShape(Output.Shape, TensorShape.Nhwc(i.Batch, outH, outW, op.Filters), "output");
        Kernel = binding.Weights[0];
        ExpectShape(Kernel.Shape, new TensorShape(op.KernelHeight, op.KernelWidth, i.Channels, op.Filters), "kernel");
        BiasTensor = OptionalBias(binding, op.UseBias, op.Filters);
        _activation = op.Activation;
        if (op.AddsResidual)
        {
            ResidualTensor = Inputs[1];
            ExpectShape(ResidualTensor.Shape, Output.Shape, "residual input");
        }
        if (op.ScalesInputChannels)
        {
            if (!op.IsPointwise) throw Fail("input channel scales need a pointwise (1x1, stride 1, unpadded) convolution");
            if (path != Conv2DPath.Pointwise) throw Fail($"input channel scales need the pointwise path, not {path}");
        }
        Params = new Conv2DParams(i.Batch, i.Height, i.Width, i.Channels, outH, outW, op.Filters,
            op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth, op.DilationHeight, op.DilationWidth,
            op.Padding.Top, op.Padding.Left);
    }

    /// <summary>
    /// Prepares the convolution on the path <see cref="Conv2DPathSelector.Choose"/> picks for it, or on
    /// <paramref name="path"/> (tests, benchmarks).
    /// </summary>
    public static CpuConv2D Create(Conv2DOp op, OpBinding binding, WorkerPool pool, Conv2DPath? path = null)
        => (path ?? Conv2DPathSelector.Choose(op, binding.Output.Shape).Path) switch
        {
            Conv2DPath.Pointwise => new CpuPointwiseConv2D(op, binding, pool),
            Conv2DPath.Winograd => new CpuWinogradConv2D(op, binding, pool),
            Conv2DPath.Windows => new CpuWindowsConv2D(op, binding, pool),
            Conv2DPath.ImplicitGemm => new CpuImplicitGemmConv2D(op, binding, pool),
            var other => throw new ArgumentOutOfRangeException(nameof(path), other, "not a convolution path"),
        };

    /// <summary>The path this convolution runs on.</summary>
    internal Conv2DPath Path { get; }

    /// <summary>Shapes and window arithmetic of the whole convolution.</summary>
    protected Conv2DParams Params { get; }

    /// <summary>The HWIO kernel as bound.</summary>
    protected Tensor Kernel { get; }

    /// <summary>The bias tensor, or null without one.</summary>
    protected Tensor? BiasTensor { get; }

    /// <summary>The tensor added before the activation, or null without one.</summary>
    protected Tensor? ResidualTensor { get; }

    /// <summary>The bias, or empty.</summary>
    protected ReadOnlySpan<float> Bias => BiasTensor is null ? default : BiasTensor.Span;

    /// <summary>The residual, or empty.</summary>
    protected ReadOnlySpan<float> Residual => ResidualTensor is null ? default : ResidualTensor.Span;

    public override void Execute(RowRange rows) => ExecuteWithActivation(rows);

    /// <summary>Runs <see cref="Execute{TActivation}"/> on <paramref name="rows"/> with the op's activation as a struct.</summary>
    protected void ExecuteWithActivation(RowRange rows)
    {
        var call = new ActivationCall(this, rows);
        ActivationDispatch.Dispatch(_activation, ref call);
    }

    /// <summary>The path's work on <paramref name="rows"/>, ending in <paramref name="activation"/>.</summary>
    protected abstract void Execute<TActivation>(RowRange rows, TActivation activation) where TActivation : struct, IActivation;

    private readonly struct ActivationCall(CpuConv2D op, RowRange rows) : IActivationConsumer
    {
        public void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation => op.Execute(rows, activation);
    }
}
