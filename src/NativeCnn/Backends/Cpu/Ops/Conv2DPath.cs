using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>How a prepared convolution computes its output; each path is one op class.</summary>
internal enum Conv2DPath
{
    /// <summary>The packed GEMM on the input itself: 1x1, stride 1, unpadded (<see cref="CpuPointwiseConv2D"/>).</summary>
    Pointwise,

    /// <summary>Winograd F(2x2, 3x3): transformed input, 16 packed GEMMs, transformed back (<see cref="CpuWinogradConv2D"/>).</summary>
    Winograd,

    /// <summary>
    /// The packed GEMM's micro-kernels reading each output pixel's window straight from the input (a padded copy when
    /// the convolution pads): no gathered patches (<see cref="CpuWindowsConv2D"/>, <see cref="PointwiseConvKernels.NhwcWindows"/>).
    /// </summary>
    Windows,

    /// <summary>
    /// Patches gathered a slot of pixels at a time per thread, each multiplied while in L2: windows dilated along the
    /// width, which <see cref="Windows"/> cannot read as one run (<see cref="CpuImplicitGemmConv2D"/>).
    /// </summary>
    ImplicitGemm,
}
