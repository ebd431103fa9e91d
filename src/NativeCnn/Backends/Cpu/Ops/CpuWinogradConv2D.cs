using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// A 3x3 stride-1 undilated convolution as Winograd F(2x2, 3x3) in three phases: the input windows transformed
/// (<see cref="WinogradKernels.TransformInput"/>), 16 packed GEMMs of the transformed positions (this op's work rows:
/// position × block of tiles), and the products transformed back with bias, residual and activation.
/// </summary>
internal sealed class CpuWinogradConv2D : CpuConv2D
{
    private readonly PackedPointwiseWeights[] _positionWeights;
    private readonly PointwiseConvParams _gemm;
    private readonly Tensor _transformed, _products;
    private readonly int _tiles, _tileBlocks;
    private readonly WinogradInput _input;
    private readonly WinogradOutput _output;

    public CpuWinogradConv2D(Conv2DOp op, OpBinding binding, WorkerPool pool) : base(op, binding, pool, Conv2DPath.Winograd)
    {
        if (!Conv2DPathSelector.IsWinogradShape(op)) throw Fail($"{op} is not a 3x3 stride-1 undilated convolution");
        int channels = Params.InputChannels, filters = op.Filters, positions = WinogradKernels.Positions;
        _tiles = WinogradKernels.TileCount(Params);
        _tileBlocks = (_tiles + PointwiseConvKernels.PixelBlock - 1) / PointwiseConvKernels.PixelBlock;
        using var transformedKernel = new Tensor(new TensorShape(positions * channels, filters));
        WinogradKernels.TransformKernel(Kernel.Span, transformedKernel.Span, channels, filters);
        _positionWeights = new PackedPointwiseWeights[positions];
        for (int position = 0; position < positions; position++)
            _positionWeights[position] = new PackedPointwiseWeights(
                transformedKernel.Span.Slice(position * channels * filters, channels * filters), default, channels, filters);
        _gemm = new PointwiseConvParams(_tiles, channels, filters);
        _transformed = new Tensor(new TensorShape(positions * _tiles, channels));
        _products = new Tensor(new TensorShape(positions * _tiles, filters));
        _input = new WinogradInput(this);
        _output = new WinogradOutput(this);
    }

    protected override int RowCount => WinogradKernels.Positions * _tileBlocks;

    public override void Run()
    {
        Pool.Run(_input, WinogradKernels.TileRowCount(Params));
        base.Run();
        Pool.Run(_output, WinogradKernels.TileRowCount(Params));
    }

    /// <summary>The middle phase: rows are (position, block of tiles) pairs, each a slice of one position's GEMM.</summary>
    public override void Execute(RowRange rows)
    {
        int blocks = _tileBlocks, tiles = _tiles, channels = _gemm.InputChannels, filters = _gemm.OutputChannels;
        for (int row = rows.Start; row < rows.End;)
        {
            int position = row / blocks, block = row - position * blocks;
            int lastBlock = Math.Min(blocks, block + rows.End - row);
            var weights = _positionWeights[position];
            var tileRange = new RowRange(block * PointwiseConvKernels.PixelBlock, Math.Min(tiles, lastBlock * PointwiseConvKernels.PixelBlock));
            PointwiseConvKernels.Nhwc(_transformed.Span.Slice(position * tiles * channels, tiles * channels), weights, default,
                                      _products.Span.Slice(position * tiles * filters, tiles * filters), in _gemm,
                                      default(IdentityActivation), tileRange, RowRange.All(weights.PanelCount));
            row += lastBlock - block;
        }
    }

    /// <summary>The last phase, on tile rows: the products back to pixels, with bias, residual and activation.</summary>
    protected override void Execute<TActivation>(RowRange rows, TActivation activation)
        => WinogradKernels.TransformOutput(_products.Span, Bias, Residual, Output.Span, Params, activation, rows);

    public override void Dispose()
    {
        _transformed.Dispose();
        _products.Dispose();
        foreach (var weights in _positionWeights) weights.Dispose();
    }

    /// <summary>The first phase: the input windows of tile rows, transformed.</summary>
    private sealed class WinogradInput(CpuWinogradConv2D op) : IRowWork
    {
        public void Execute(RowRange rows) => WinogradKernels.TransformInput(op.Input.Span, op._transformed.Span, op.Params, rows);
    }

    /// <summary>The last phase, with the op's activation.</summary>
    private sealed class WinogradOutput(CpuWinogradConv2D op) : IRowWork
    {
        public void Execute(RowRange rows) => op.ExecuteWithActivation(rows);
    }
}
