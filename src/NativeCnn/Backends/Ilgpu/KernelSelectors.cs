using ILGPU;
using NativeCnn.Backends.Ilgpu.Kernels;

namespace NativeCnn.Backends.Ilgpu;

// Each selector names one activation-generic kernel; KernelActivations.Select closes it over an activation struct, and
// IlgpuKernelCatalog enumerates every closure for the PTX check.

internal readonly struct Conv2DSelector<TTile> : IActivationSelector<Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvParams>>
    where TTile : struct, IConvTile
{
    public Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvParams> Select<TActivation>()
        where TActivation : struct, IKernelActivation => ConvKernels.Conv2D<TActivation, TTile>;
}

internal readonly struct DepthwiseSelector : IActivationSelector<Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvParams>>
{
    public Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvParams> Select<TActivation>()
        where TActivation : struct, IKernelActivation => ConvKernels.DepthwiseConv2D<TActivation>;
}

internal readonly struct ChannelAffineSelector : IActivationSelector<Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseParams>>
{
    public Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseParams> Select<TActivation>()
        where TActivation : struct, IKernelActivation => ElementwiseKernels.ChannelAffine<TActivation>;
}

internal readonly struct ActivationSelector : IActivationSelector<Action<ArrayView<float>, ArrayView<float>, ElementwiseParams>>
{
    public Action<ArrayView<float>, ArrayView<float>, ElementwiseParams> Select<TActivation>()
        where TActivation : struct, IKernelActivation => ElementwiseKernels.Activation<TActivation>;
}

internal readonly struct DenseSelector : IActivationSelector<Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DenseParams>>
{
    public Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DenseParams> Select<TActivation>()
        where TActivation : struct, IKernelActivation => DenseKernels.Dense<TActivation>;
}

internal readonly struct Conv2DTransposeSelector : IActivationSelector<Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvParams>>
{
    public Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvParams> Select<TActivation>()
        where TActivation : struct, IKernelActivation => ConvKernels.Conv2DTranspose<TActivation>;
}
