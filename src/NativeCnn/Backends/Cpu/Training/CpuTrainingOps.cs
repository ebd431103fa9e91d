using NativeCnn.Backends.Cpu.Ops;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>The CPU backend's training ops, by descriptor.</summary>
internal static class CpuTrainingOps
{
    /// <summary>Whether <paramref name="op"/> has a training op here; <paramref name="reason"/> names what is missing.</summary>
    public static bool Supports(OpDescriptor op, out string? reason)
    {
        reason = op switch
        {
            Conv2DOp { AddsResidual: true } or Conv2DOp { ScalesInputChannels: true } => "fused convolutions are not trained (plans for training are unfused)",
            Conv2DOp or DenseOp or DepthwiseConv2DOp or BatchNormalizationOp or DropoutOp or ActivationOp or AddOp or MultiplyOp
                or CopyOp or ZeroPadding2DOp or Cropping2DOp or ConcatenateOp or GlobalPooling2DOp or SeparableConv2DOp or Conv2DTransposeOp
                or UpSampling2DOp or LayerNormalizationOp or PReluOp or PermuteOp or MergeOp => null,
            ChannelAffineOp { Activation.Kind: not ActivationKind.Linear } => "a channel affine with a fused activation is not trained",
            ChannelAffineOp => null,
            Pooling2DOp { PaddedCellsAreZeros: true, Mode: not PoolingMode.Max } => "padded cells count as zeros only for max pooling",
            Pooling2DOp => null,
            _ => $"the CPU backend cannot train {op.GetType().Name} yet",
        };
        return reason is null;
    }

    /// <summary>
    /// Which forward tensors the backward pass of <paramref name="op"/>'s training op reads: a weighted layer its input
    /// (for the weight gradient) and, with a fused non-linear activation, its output; an activation whichever of its
    /// input and output its gradient reads; BatchNormalization its input (it recomputes x̂ from the batch statistics it
    /// keeps); a sum, copy, padding, cropping, concatenation, average pooling or frozen affine nothing at all.
    /// </summary>
    public static BackwardReads BackwardReads(OpDescriptor op, int inputCount) => op switch
    {
        Conv2DOp conv => Backends.BackwardReads.Of(inputCount, true, !IsLinear(conv.Activation)),
        DenseOp dense => Backends.BackwardReads.Of(inputCount, true, !IsLinear(dense.Activation)),
        DepthwiseConv2DOp depthwise => Backends.BackwardReads.Of(inputCount, true, !IsLinear(depthwise.Activation)),
        SeparableConv2DOp separable => Backends.BackwardReads.Of(inputCount, true, !IsLinear(separable.Pointwise.Activation)),
        Conv2DTransposeOp transpose => Backends.BackwardReads.Of(inputCount, true, !IsLinear(transpose.Activation)),
        BatchNormalizationOp or LayerNormalizationOp or PReluOp => Backends.BackwardReads.Of(inputCount, true, false),
        ActivationOp { Activation: var activation } when IsLinear(activation) => Backends.BackwardReads.None(inputCount),
        ActivationOp { Activation: var activation } => ActivationGradients.UsesOutput(activation)
            ? Backends.BackwardReads.Of(inputCount, false, true)
            : Backends.BackwardReads.Of(inputCount, true, false),
        // The mask is the op's own; a product reads the other factor.
        DropoutOp or AddOp or CopyOp or ZeroPadding2DOp or Cropping2DOp or ConcatenateOp or UpSampling2DOp or PermuteOp or ChannelAffineOp
            => Backends.BackwardReads.None(inputCount),
        MultiplyOp => Backends.BackwardReads.Of(inputCount, true, false),
        GlobalPooling2DOp { Mode: PoolingMode.Max } => Backends.BackwardReads.Of(inputCount, true, true),
        GlobalPooling2DOp => Backends.BackwardReads.None(inputCount),
        Pooling2DOp { Mode: PoolingMode.Max } => Backends.BackwardReads.Of(inputCount, true, false),
        Pooling2DOp => Backends.BackwardReads.None(inputCount),
        MergeOp { Mode: MergeMode.Maximum or MergeMode.Minimum } => Backends.BackwardReads.Of(inputCount, true, false),
        MergeOp => Backends.BackwardReads.None(inputCount),
        _ => Backends.BackwardReads.All(inputCount),
    };

    private static bool IsLinear(ActivationFunction activation) => activation.Kind == ActivationKind.Linear;

    /// <summary>Prepares the training op of <paramref name="op"/>; inference ops run the forward pass where weights are read live.</summary>
    public static ITrainingOp Prepare(CpuBackend backend, WorkerPool pool, OpDescriptor op, TrainingBinding binding)
    {
        if (!Supports(op, out string? reason)) throw new BackendException($"{binding.LayerName}: {reason}.");
        IPreparedOp Inference() => backend.Prepare(op, new OpBinding(binding.LayerName, binding.Inputs, binding.Output, binding.Weights));
        return op switch
        {
            Conv2DOp conv => new TrainingConv2D(conv, binding, pool),
            DenseOp dense => new TrainingDense(dense, binding, pool),
            DepthwiseConv2DOp depthwise => new TrainingDepthwiseConv2D(depthwise, binding, pool),
            BatchNormalizationOp normalization => new TrainingBatchNormalization(normalization, binding, pool),
            DropoutOp dropout => new TrainingDropout(dropout, binding, pool),
            ActivationOp activation => new TrainingActivation(activation, Inference(), binding, pool),
            ChannelAffineOp affine => new TrainingChannelAffine(affine, Inference(), binding, pool),
            AddOp => new TrainingAdd(Inference(), binding, pool),
            MultiplyOp => new TrainingMultiply(Inference(), binding, pool),
            CopyOp => new TrainingCopy(Inference(), binding, pool),
            ZeroPadding2DOp padding => new TrainingWindowCopy(padding.Padding, outputIsLarger: true, Inference(), binding, pool),
            Cropping2DOp cropping => new TrainingWindowCopy(cropping.Cropping, outputIsLarger: false, Inference(), binding, pool),
            ConcatenateOp concatenate => new TrainingConcatenate(concatenate, Inference(), binding, pool),
            GlobalPooling2DOp global => new TrainingGlobalPooling2D(global, Inference(), binding, pool),
            Pooling2DOp pooling => new TrainingPooling2D(pooling, Inference(), binding, pool),
            SeparableConv2DOp separable => new TrainingSeparableConv2D(separable, binding, pool),
            Conv2DTransposeOp transpose => new TrainingConv2DTranspose(transpose, binding, pool),
            UpSampling2DOp upSampling => new TrainingUpSampling2D(upSampling, Inference(), binding, pool),
            LayerNormalizationOp normalization => new TrainingLayerNormalization(normalization, Inference(), binding, pool),
            PReluOp => new TrainingPRelu(binding, pool),
            PermuteOp permute => new TrainingPermute(permute, Inference(), binding, pool),
            MergeOp merge => new TrainingMerge(merge, Inference(), binding, pool),
            _ => throw new BackendException($"{binding.LayerName}: the CPU backend cannot train {op.GetType().Name}."),
        };
    }
}
