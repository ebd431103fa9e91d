using System.Reflection;
using ILGPU;
using NativeCnn.Backends.Ilgpu.Kernels;

namespace NativeCnn.Backends.Ilgpu;

/// <summary>Every kernel specialization the ILGPU backend can load: each kernel closed over each activation struct and tile.</summary>
internal static class IlgpuKernelCatalog
{
    /// <summary>A readable name (<c>conv2d.gpu.swish</c>) and the closed kernel method.</summary>
    public static IReadOnlyList<(string Name, MethodInfo Method)> All { get; } = Build();

    private static List<(string, MethodInfo)> Build()
    {
        var kernels = new List<(string, MethodInfo)>();
        foreach (var activation in KernelActivations.Representatives)
        {
            string suffix = activation.Kind == ActivationKind.Relu && !float.IsPositiveInfinity(activation.MaxValue) ? "bounded_relu"
                : activation.IsKeras2HardSigmoid ? "hard_sigmoid_keras2" : activation.Kind.ToString().ToLowerInvariant();
            kernels.Add(($"conv2d.gpu_tile.{suffix}", KernelActivations.Select(activation, new Conv2DSelector<GpuConvTile>()).Method));
            kernels.Add(($"conv2d.small_tile.{suffix}", KernelActivations.Select(activation, new Conv2DSelector<SmallConvTile>()).Method));
            kernels.Add(($"depthwise_conv2d.{suffix}", KernelActivations.Select(activation, new DepthwiseSelector()).Method));
            kernels.Add(($"channel_affine.{suffix}", KernelActivations.Select(activation, new ChannelAffineSelector()).Method));
            kernels.Add(($"activation.{suffix}", KernelActivations.Select(activation, new ActivationSelector()).Method));
            kernels.Add(($"conv2d_transpose.{suffix}", KernelActivations.Select(activation, new Conv2DTransposeSelector()).Method));
            kernels.Add(($"dense.{suffix}", KernelActivations.Select(activation, new DenseSelector()).Method));
        }
        Add(kernels, "add", ElementwiseKernels.Add);
        Add(kernels, "multiply", ElementwiseKernels.Multiply);
        Add(kernels, "merge", ElementwiseKernels.Merge);
        Add(kernels, "prelu", ElementwiseKernels.PRelu);
        kernels.Add(("copy", ((Action<ArrayView<float>, ArrayView<float>, ElementwiseParams>)ElementwiseKernels.Copy).Method));
        kernels.Add(("softmax", ((Action<ArrayView<float>, ArrayView<float>, ReductionParams>)ReductionKernels.Softmax).Method));
        kernels.Add(("global_pooling2d", ((Action<ArrayView<float>, ArrayView<float>, ReductionParams>)ReductionKernels.GlobalPooling2D).Method));
        kernels.Add(("layer_normalization", ((Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ReductionParams>)ReductionKernels.LayerNormalization).Method));
        kernels.Add(("pooling2d", ((Action<ArrayView<float>, ArrayView<float>, WindowParams>)WindowKernels.Pooling2D).Method));
        kernels.Add(("pad_or_crop", ((Action<ArrayView<float>, ArrayView<float>, WindowParams>)WindowKernels.PadOrCrop).Method));
        kernels.Add(("up_sample_nearest", ((Action<ArrayView<float>, ArrayView<float>, WindowParams>)WindowKernels.UpSampleNearest).Method));
        kernels.Add(("up_sample_bilinear", ((Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams>)WindowKernels.UpSampleBilinear).Method));
        kernels.Add(("permute", ((Action<ArrayView<float>, ArrayView<float>, WindowParams>)WindowKernels.Permute).Method));
        kernels.Add(("concatenate_slice", ((Action<ArrayView<float>, ArrayView<float>, WindowParams>)WindowKernels.ConcatenateSlice).Method));
        return kernels;
    }

    private static void Add(List<(string, MethodInfo)> kernels, string name, Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseParams> kernel) =>
        kernels.Add((name, kernel.Method));
}
