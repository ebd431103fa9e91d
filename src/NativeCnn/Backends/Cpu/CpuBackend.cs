using System.Runtime.Intrinsics;
using NativeCnn.Backends.Cpu.Ops;

namespace NativeCnn.Backends.Cpu;

/// <summary>
/// The CPU backend: SIMD kernels (Vector512 where the processor has it, else Vector256, with scalar tails) on a
/// <see cref="WorkerPool"/> of <see cref="ThreadCount"/> threads. Its buffers are <see cref="HostBuffer"/>s.
/// </summary>
public sealed class CpuBackend : ITrainingBackend
{
    private readonly WorkerPool _pool;
    private readonly CpuExecutionStrategy _strategy;

    /// <summary>Creates a backend running on <paramref name="threadCount"/> threads (default: one per core).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threadCount"/> is less than 1.</exception>
    public CpuBackend(int? threadCount = null)
    {
        _pool = new WorkerPool(threadCount ?? Environment.ProcessorCount);
        _strategy = new CpuExecutionStrategy(_pool);
    }

    /// <summary>The number of threads kernels run on.</summary>
    public int ThreadCount => _pool.ThreadCount;

    /// <summary>
    /// On several threads, a fused plan of at least two images per thread runs one whole-image plan per thread; on one,
    /// a fused plan whose activations would not stay in cache runs the batch in passes of a few images.
    /// </summary>
    public IExecutionStrategy ExecutionStrategy => _strategy;

    /// <summary>The widest SIMD the kernels use here: <c>avx512</c> (Vector512), <c>avx2</c> (Vector256) or <c>scalar</c>.</summary>
    public static string InstructionSet =>
        Vector512.IsHardwareAccelerated ? "avx512" : Vector256.IsHardwareAccelerated ? "avx2" : "scalar";

    /// <inheritdoc/>
    public string Name => $"cpu-{InstructionSet} ({ThreadCount} thread{(ThreadCount == 1 ? "" : "s")})";

    /// <inheritdoc/>
    public bool Supports(OpDescriptor op, out string? reason)
    {
        reason = op switch
        {
            Conv2DOp { ScalesInputChannels: true, IsPointwise: false } => "input channel scales need a pointwise (1x1, stride 1, unpadded) convolution",
            Pooling2DOp { PaddedCellsAreZeros: true, Mode: not PoolingMode.Max } => "padded cells count as zeros only for max pooling",
            Conv2DOp or DepthwiseConv2DOp or ChannelAffineOp or ActivationOp or AddOp or MultiplyOp or ZeroPadding2DOp
                or Pooling2DOp or GlobalPooling2DOp or DenseOp or CopyOp or SqueezeExcitationOp or ConcatenateOp or MergeOp
                or UpSampling2DOp or Cropping2DOp or SeparableConv2DOp or LayerNormalizationOp or Conv2DTransposeOp or PReluOp or PermuteOp => null,
            _ => $"the CPU backend has no kernel for {op.GetType().Name}",
        };
        return reason is null;
    }

    /// <inheritdoc/>
    public IDeviceBuffer Allocate(TensorShape shape) => new HostBuffer(shape);

    /// <inheritdoc/>
    public IPreparedOp Prepare(OpDescriptor op, OpBinding binding)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(binding);
        return op switch
        {
            Conv2DOp conv => CpuConv2D.Create(conv, binding, _pool),
            DepthwiseConv2DOp depthwise => new CpuDepthwiseConv2D(depthwise, binding, _pool),
            ChannelAffineOp affine => new CpuChannelAffine(affine, binding, _pool),
            ActivationOp activation => new CpuActivation(activation, binding, _pool),
            AddOp => new CpuAdd(binding, _pool),
            MultiplyOp => new CpuMultiply(binding, _pool),
            ZeroPadding2DOp padding => new CpuZeroPadding2D(padding, binding, _pool),
            Pooling2DOp pooling => new CpuPooling2D(pooling, binding, _pool),
            GlobalPooling2DOp global => new CpuGlobalPooling2D(global, binding, _pool),
            DenseOp dense => new CpuDense(dense, binding, _pool),
            CopyOp => new CpuCopy(binding, _pool),
            SqueezeExcitationOp se => new CpuSqueezeExcitation(se, binding, _pool),
            ConcatenateOp concatenate => new CpuConcatenate(concatenate, binding, _pool),
            MergeOp merge => new CpuMerge(merge, binding, _pool),
            UpSampling2DOp upSampling => new CpuUpSampling2D(upSampling, binding, _pool),
            Cropping2DOp cropping => new CpuCropping2D(cropping, binding, _pool),
            SeparableConv2DOp separable => SequentialOp.Prepare(this, separable, binding),
            LayerNormalizationOp normalization => new CpuLayerNormalization(normalization, binding, _pool),
            Conv2DTransposeOp transpose => new CpuConv2DTranspose(transpose, binding, _pool),
            PReluOp => new CpuPRelu(binding, _pool),
            PermuteOp permute => new CpuPermute(permute, binding, _pool),
            _ => throw new BackendException($"{binding.LayerName}: the CPU backend has no kernel for {op.GetType().Name}."),
        };
    }

    /// <inheritdoc/>
    public bool SupportsTraining(OpDescriptor op, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(op);
        return Training.CpuTrainingOps.Supports(op, out reason);
    }

    /// <inheritdoc/>
    public ITrainingOp PrepareTraining(OpDescriptor op, TrainingBinding binding)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(binding);
        return Training.CpuTrainingOps.Prepare(this, _pool, op, binding);
    }

    /// <inheritdoc/>
    public BackwardReads BackwardReads(OpDescriptor op, int inputCount)
    {
        ArgumentNullException.ThrowIfNull(op);
        return Training.CpuTrainingOps.BackwardReads(op, inputCount);
    }

    /// <inheritdoc/>
    public void Synchronize() { }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose() => _pool.Dispose();
}
