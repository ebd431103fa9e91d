using ILGPU;
using ILGPU.Runtime;
using NativeCnn.Backends.Ilgpu.Kernels;

namespace NativeCnn.Backends.Ilgpu;

/// <summary>
/// Turns op descriptors into launches of the C# kernels in <c>Backends/Ilgpu/Kernels</c>. Shapes are checked as the CPU
/// backend checks them, weights are uploaded once here, and the prepared op only queues launches.
/// </summary>
internal static class IlgpuOps
{
    /// <summary>Whether the kernels cover <paramref name="op"/>; <paramref name="reason"/> says why not.</summary>
    public static bool Supports(OpDescriptor op, out string? reason)
    {
        reason = op switch
        {
            Pooling2DOp { PaddedCellsAreZeros: true, Mode: PoolingMode.Average } => "padded cells read as zeros are defined for max pooling only",
            Conv2DOp conv => ElementwiseOnly(conv.Activation, "Conv2D"),
            DepthwiseConv2DOp depthwise => ElementwiseOnly(depthwise.Activation, "DepthwiseConv2D"),
            ChannelAffineOp affine => ElementwiseOnly(affine.Activation, "a channel affine (BatchNormalization)"),
            SqueezeExcitationOp se => ElementwiseOnly(se.ReduceActivation, "squeeze-and-excitation"),
            SeparableConv2DOp separable => ElementwiseOnly(separable.Depthwise.Activation, "SeparableConv2D's depthwise step")
                                           ?? ElementwiseOnly(separable.Pointwise.Activation, "SeparableConv2D"),
            Conv2DTransposeOp transpose => ElementwiseOnly(transpose.Activation, "Conv2DTranspose"),
            ActivationOp or DenseOp or AddOp or MultiplyOp or ZeroPadding2DOp or Pooling2DOp or GlobalPooling2DOp or CopyOp
                or Cropping2DOp or ConcatenateOp or MergeOp or LayerNormalizationOp or PReluOp or UpSampling2DOp or PermuteOp => null,
            TrainingOpDescriptor => $"{op.GetType().Name} is a training op; the ILGPU backend runs inference only",
            null => "no op was given",
            _ => $"the ILGPU kernels do not cover {op.GetType().Name}",
        };
        return reason is null;
    }

    /// <summary>Prepares <paramref name="op"/> on <paramref name="device"/>.</summary>
    /// <exception cref="BackendException">The op is unsupported or the buffers do not fit it.</exception>
    public static IPreparedOp Prepare(IlgpuDeviceContext device, OpDescriptor op, OpBinding binding)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(binding);
        if (!Supports(op, out var reason)) throw new BackendException($"{binding.LayerName}: {device.Name} cannot run {op.GetType().Name}: {reason}.");
        var builder = new IlgpuOpBuilder(device, binding);
        try
        {
            switch (op)
            {
                case Conv2DOp conv: Conv2D(builder, conv); break;
                case DepthwiseConv2DOp depthwise: DepthwiseConv2D(builder, depthwise); break;
                case SeparableConv2DOp separable: SeparableConv2D(builder, separable); break;
                case ChannelAffineOp affine: ChannelAffine(builder, affine); break;
                case ActivationOp activation: Activation(builder, activation.Activation); break;
                case AddOp: Add(builder); break;
                case MultiplyOp: Multiply(builder); break;
                case MergeOp merge: Merge(builder, merge.Mode); break;
                case ZeroPadding2DOp padding: PadOrCrop(builder, padding.Padding, crop: false); break;
                case Cropping2DOp cropping: PadOrCrop(builder, cropping.Cropping, crop: true); break;
                case ConcatenateOp concatenate: Concatenate(builder, concatenate.Axis); break;
                case Pooling2DOp pooling: Pooling2D(builder, pooling); break;
                case GlobalPooling2DOp global: GlobalPooling2D(builder, global); break;
                case DenseOp dense: Dense(builder, dense); break;
                case CopyOp: Copy(builder); break;
                case SqueezeExcitationOp se: SqueezeExcitation(builder, se); break;
                case LayerNormalizationOp norm: LayerNormalization(builder, norm); break;
                case PReluOp: PRelu(builder); break;
                case Conv2DTransposeOp transpose: Conv2DTranspose(builder, transpose); break;
                case UpSampling2DOp upSampling: UpSampling2D(builder, upSampling); break;
                case PermuteOp permute: Permute(builder, permute); break;
            }
            return builder.Build();
        }
        catch
        {
            builder.Dispose();
            throw;
        }
    }

    private static string? ElementwiseOnly(ActivationFunction activation, string what) =>
        activation.IsElementwise ? null : $"{activation} cannot be fused into {what}; only Dense and Activation take softmax";

    private static void Conv2D(IlgpuOpBuilder b, Conv2DOp op)
    {
        int inputs = 1 + (op.AddsResidual ? 1 : 0) + (op.ScalesInputChannels ? 1 : 0);
        b.ExpectCounts(inputs, op.UseBias ? 2 : 1);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        int outH = b.WindowOutputSize("height", i.Height, op.Padding.Top, op.Padding.Bottom, op.KernelHeight, op.StrideHeight, op.DilationHeight);
        int outW = b.WindowOutputSize("width", i.Width, op.Padding.Left, op.Padding.Right, op.KernelWidth, op.StrideWidth, op.DilationWidth);
        b.ExpectShape(b.Output.Shape, TensorShape.Nhwc(i.Batch, outH, outW, op.Filters), "output");
        b.ExpectShape(b.Weight(0).Shape, new TensorShape(op.KernelHeight, op.KernelWidth, i.Channels, op.Filters), "kernel");
        b.Dimension("kernel size", b.Weight(0).Length);
        ArrayView<float> residual = b.Output.Memory, scale = b.Output.Memory;
        if (op.AddsResidual)
        {
            b.ExpectShape(b.Input(1).Shape, b.Output.Shape, "residual input");
            residual = b.Input(1).Memory;
        }
        if (op.ScalesInputChannels)
        {
            b.ExpectShape(b.Input(inputs - 1).Shape, TensorShape.Nhwc(i.Batch, 1, 1, i.Channels), "channel scale input");
            scale = b.Input(inputs - 1).Memory;
        }
        var p = Geometry(i, outH, outW, op.Filters, op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth,
            op.DilationHeight, op.DilationWidth, op.Padding, op.Activation);
        p.HasResidual = op.AddsResidual ? 1 : 0;
        p.ScalesInput = op.ScalesInputChannels ? 1 : 0;
        LaunchConv2D(b, b.Input(0).Memory, b.Upload(b.Weight(0).Span), b.Bias(op.UseBias, op.Filters), residual, scale, b.Output.Memory, p, op.Activation);
    }

    /// <summary>Queues the tiled convolution; the tile depends on the accelerator (<see cref="IlgpuDeviceContext.IsCpu"/>).</summary>
    private static void LaunchConv2D(IlgpuOpBuilder b, ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias,
        ArrayView<float> residual, ArrayView<float> scale, ArrayView<float> output, ConvParams p, ActivationFunction activation)
    {
        int threads = b.Device.IsCpu ? default(SmallConvTile).Threads : default(GpuConvTile).Threads;
        int block = threads * ConvKernels.Work;
        long pixels = (long)p.Batch * p.OutHeight * p.OutWidth;
        var kernel = b.Device.Load(b.Device.IsCpu
            ? KernelActivations.Select(activation, new Conv2DSelector<SmallConvTile>())
            : KernelActivations.Select(activation, new Conv2DSelector<GpuConvTile>()));
        // Dimension 0 runs over pixel blocks: CUDA's grid x has the large limit.
        var config = new KernelConfig(new Index2D(b.Dimension("pixel blocks", (Math.Max(1, pixels) + block - 1) / block), (Math.Max(1, p.OutChannels) + block - 1) / block),
            new Index2D(threads, threads));
        b.Launch(() => kernel(config, input, weights, bias, residual, scale, output, p));
    }

    private static ConvParams Geometry(TensorShape i, int outH, int outW, int outC, int kh, int kw, int sh, int sw, int dh, int dw,
        Padding2D padding, ActivationFunction activation) => new()
    {
        Batch = i.Batch, InHeight = i.Height, InWidth = i.Width, InChannels = i.Channels,
        OutHeight = outH, OutWidth = outW, OutChannels = outC,
        KernelHeight = kh, KernelWidth = kw, StrideHeight = sh, StrideWidth = sw, DilationHeight = dh, DilationWidth = dw,
        PadTop = padding.Top, PadLeft = padding.Left, DepthMultiplier = 1,
        ActivationParameter = KernelActivations.Parameter(activation),
    };

    private static void DepthwiseConv2D(IlgpuOpBuilder b, DepthwiseConv2DOp op)
    {
        b.ExpectCounts(1, op.UseBias ? 2 : 1);
        var i = b.Input(0).Shape;
        var p = DepthwiseGeometry(b, op, i, b.Weight(0));
        b.ExpectShape(b.Output.Shape, TensorShape.Nhwc(i.Batch, p.OutHeight, p.OutWidth, p.OutChannels), "output");
        LaunchDepthwise(b, b.Input(0).Memory, b.Upload(b.Weight(0).Span), b.Bias(op.UseBias, p.OutChannels), b.Output.Memory, p, op.Activation);
    }

    private static ConvParams DepthwiseGeometry(IlgpuOpBuilder b, DepthwiseConv2DOp op, TensorShape i, Tensor kernel)
    {
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        int outH = b.WindowOutputSize("height", i.Height, op.Padding.Top, op.Padding.Bottom, op.KernelHeight, op.StrideHeight, op.DilationHeight);
        int outW = b.WindowOutputSize("width", i.Width, op.Padding.Left, op.Padding.Right, op.KernelWidth, op.StrideWidth, op.DilationWidth);
        if (op.DepthMultiplier < 1) throw b.Fail($"the depth multiplier must be at least 1, got {op.DepthMultiplier}");
        int outC = b.Dimension("output channels", (long)i.Channels * op.DepthMultiplier);
        b.ExpectShape(kernel.Shape, new TensorShape(op.KernelHeight, op.KernelWidth, i.Channels, op.DepthMultiplier), "depthwise kernel");
        b.Dimension("output size", (long)i.Batch * outH * outW * outC);
        var p = Geometry(i, outH, outW, outC, op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth,
            op.DilationHeight, op.DilationWidth, op.Padding, op.Activation);
        p.DepthMultiplier = op.DepthMultiplier;
        return p;
    }

    private static void LaunchDepthwise(IlgpuOpBuilder b, ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias,
        ArrayView<float> output, ConvParams p, ActivationFunction activation)
    {
        var kernel = b.Device.Load(KernelActivations.Select(activation, new DepthwiseSelector()));
        var config = b.Linear((long)p.Batch * p.OutHeight * p.OutWidth * p.OutChannels);
        b.Launch(() => kernel(config, input, weights, bias, output, p));
    }

    /// <summary>Depthwise into a scratch buffer, then the pointwise convolution with the bias and activation.</summary>
    private static void SeparableConv2D(IlgpuOpBuilder b, SeparableConv2DOp op)
    {
        var pointwise = op.Pointwise;
        b.ExpectCounts(1, pointwise.UseBias ? 3 : 2);
        var i = b.Input(0).Shape;
        if (op.Depthwise.UseBias) throw b.Fail("a separable convolution's depthwise step has no bias");
        var d = DepthwiseGeometry(b, op.Depthwise, i, b.Weight(0));
        var middle = TensorShape.Nhwc(i.Batch, d.OutHeight, d.OutWidth, d.OutChannels);
        if (!pointwise.IsPointwise) throw b.Fail("a separable convolution's pointwise step must be 1x1, stride 1, unpadded");
        b.ExpectShape(b.Weight(1).Shape, new TensorShape(1, 1, d.OutChannels, pointwise.Filters), "pointwise kernel");
        b.ExpectShape(b.Output.Shape, TensorShape.Nhwc(i.Batch, d.OutHeight, d.OutWidth, pointwise.Filters), "output");
        var scratch = b.Scratch(middle);
        LaunchDepthwise(b, b.Input(0).Memory, b.Upload(b.Weight(0).Span), b.Bias(false, d.OutChannels), scratch.Memory, d, op.Depthwise.Activation);
        var p = Geometry(middle, d.OutHeight, d.OutWidth, pointwise.Filters, 1, 1, 1, 1, 1, 1, Padding2D.None, pointwise.Activation);
        LaunchConv2D(b, scratch.Memory, b.Upload(b.Weight(1).Span), b.Bias(pointwise.UseBias, pointwise.Filters, weightIndex: 2),
            b.Output.Memory, b.Output.Memory, b.Output.Memory, p, pointwise.Activation);
    }

    private static void ChannelAffine(IlgpuOpBuilder b, ChannelAffineOp op)
    {
        b.ExpectCounts(1, 0);
        int channels = b.Input(0).Shape.Channels;
        if (op.Scale.Length != channels || op.Shift.Length != channels)
            throw b.Fail($"expected {channels} scale and shift values, got {op.Scale.Length} and {op.Shift.Length}");
        b.ExpectShape(b.Output.Shape, b.Input(0).Shape, "output");
        var kernel = b.Device.Load(KernelActivations.Select(op.Activation, new ChannelAffineSelector()));
        var p = new ElementwiseParams { Count = b.Count, Channels = Math.Max(1, channels), ActivationParameter = KernelActivations.Parameter(op.Activation) };
        var (config, input, scale, shift, output) = (b.Linear(p.Count), b.Input(0).Memory, b.Upload(op.Scale), b.Upload(op.Shift), b.Output.Memory);
        b.Launch(() => kernel(config, input, scale, shift, output, p));
    }

    private static void Activation(IlgpuOpBuilder b, ActivationFunction activation)
    {
        b.ExpectCounts(1, 0);
        b.ExpectShape(b.Output.Shape, b.Input(0).Shape, "output");
        if (!activation.IsElementwise)
        {
            Softmax(b, b.Input(0).Memory, b.Output.Memory, b.Input(0).Shape);
            return;
        }
        var kernel = b.Device.Load(KernelActivations.Select(activation, new ActivationSelector()));
        var p = new ElementwiseParams { Count = b.Count, Channels = 1, ActivationParameter = KernelActivations.Parameter(activation) };
        var (config, input, output) = (b.Linear(p.Count), b.Input(0).Memory, b.Output.Memory);
        b.Launch(() => kernel(config, input, output, p));
    }

    /// <summary>Softmax over the last axis of <paramref name="shape"/>.</summary>
    private static void Softmax(IlgpuOpBuilder b, ArrayView<float> input, ArrayView<float> output, TensorShape shape)
    {
        int length = shape.Channels;
        int rows = length == 0 ? 0 : b.Dimension("rows", shape.ElementCount / length);
        if (rows == 0) return;
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, ReductionParams>(ReductionKernels.Softmax);
        var p = new ReductionParams { Rows = rows, Length = length, Step = 1 };
        var config = b.Rows(rows);
        b.Launch(() => kernel(config, input, output, p));
    }

    private static void Add(IlgpuOpBuilder b)
    {
        b.ExpectCounts(-1, 0);
        if (b.InputCount < 2) throw b.Fail($"expected at least 2 inputs, got {b.InputCount}");
        for (int i = 0; i < b.InputCount; i++) b.ExpectShape(b.Input(i).Shape, b.Output.Shape, $"input {i}");
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseParams>(ElementwiseKernels.Add);
        var p = new ElementwiseParams { Count = b.Count, Channels = 1 };
        LaunchFold(b, kernel, p);
    }

    // Folds the inputs left to right into the output (output = in0 ∘ in1, then output ∘= in_i), so that any number of
    // inputs takes no scratch buffer; returns the launch shape and output for a last pass.
    private static (KernelConfig Config, ArrayView<float> Output) LaunchFold(IlgpuOpBuilder b,
        Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseParams> kernel, ElementwiseParams p)
    {
        var (config, output) = (b.Linear(p.Count), b.Output.Memory);
        var (first, second) = (b.Input(0).Memory, b.Input(1).Memory);
        b.Launch(() => kernel(config, first, second, output, p));
        for (int i = 2; i < b.InputCount; i++)
        {
            var next = b.Input(i).Memory;
            b.Launch(() => kernel(config, output, next, output, p));
        }
        return (config, output);
    }

    private static void Multiply(IlgpuOpBuilder b)
    {
        b.ExpectCounts(2, 0);
        TensorShape left = b.Input(0).Shape, right = b.Input(1).Shape;
        b.ExpectShape(b.Output.Shape, left, "output");
        int imageLength;
        if (left == right) imageLength = 0;
        else if (left.Rank == 4 && right == TensorShape.Nhwc(left.Batch, 1, 1, left.Channels)) imageLength = b.Dimension("image size", (long)left.Height * left.Width * left.Channels);
        else throw b.Fail($"cannot multiply {left} by {right}: shapes must be equal or the second (N, 1, 1, C)");
        if (b.Count == 0) return;
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseParams>(ElementwiseKernels.Multiply);
        var p = new ElementwiseParams { Count = b.Count, Channels = Math.Max(1, left.Channels), ImageLength = imageLength };
        var (config, first, second, output) = (b.Linear(p.Count), b.Input(0).Memory, b.Input(1).Memory, b.Output.Memory);
        b.Launch(() => kernel(config, first, second, output, p));
    }

    private static void Merge(IlgpuOpBuilder b, MergeMode mode)
    {
        b.ExpectCounts(-1, 0);
        int expected = mode == MergeMode.Subtract ? 2 : b.InputCount;
        if (b.InputCount < 2 || b.InputCount != expected)
            throw b.Fail(mode == MergeMode.Subtract ? $"expected 2 inputs, got {b.InputCount}" : $"expected at least 2 inputs, got {b.InputCount}");
        for (int i = 0; i < b.InputCount; i++) b.ExpectShape(b.Input(i).Shape, b.Output.Shape, $"input {i}");
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseParams>(ElementwiseKernels.Merge);
        int code = mode switch { MergeMode.Subtract => 0, MergeMode.Maximum => 1, MergeMode.Minimum => 2, _ => 3 };
        var p = new ElementwiseParams { Count = b.Count, Channels = 1, Mode = code };
        var (config, output) = LaunchFold(b, kernel, p);
        if (mode == MergeMode.Average)
        {
            var divide = p with { Mode = 4, Scale = b.InputCount };
            b.Launch(() => kernel(config, output, output, output, divide));
        }
    }

    /// <summary>ZeroPadding2D, or Cropping2D as a padding by minus the cropping.</summary>
    private static void PadOrCrop(IlgpuOpBuilder b, Padding2D pad, bool crop)
    {
        b.ExpectCounts(1, 0);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        string what = crop ? "cropping" : "padding";
        if (pad.Top < 0 || pad.Bottom < 0 || pad.Left < 0 || pad.Right < 0) throw b.Fail($"{what} must be non-negative, got {pad}");
        int sign = crop ? -1 : 1;
        long outH = i.Height + sign * ((long)pad.Top + pad.Bottom), outW = i.Width + sign * ((long)pad.Left + pad.Right);
        if (outH < 0 || outW < 0) throw b.Fail($"cropping {pad} removes more than the input {i} has");
        var o = TensorShape.Nhwc(i.Batch, b.Dimension($"{what} height", outH), b.Dimension($"{what} width", outW), i.Channels);
        b.ExpectShape(b.Output.Shape, o, "output");
        if (b.Count == 0) return;
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, WindowParams>(WindowKernels.PadOrCrop);
        var p = new WindowParams { Batch = i.Batch, InHeight = i.Height, InWidth = i.Width, Channels = i.Channels, OutHeight = o.Height, OutWidth = o.Width,
                                   PadTop = sign * pad.Top, PadLeft = sign * pad.Left };
        var (config, input, output) = (b.Linear(b.Count), b.Input(0).Memory, b.Output.Memory);
        b.Launch(() => kernel(config, input, output, p));
    }

    /// <summary>One launch per input, each writing its slice of every outer index.</summary>
    private static void Concatenate(IlgpuOpBuilder b, int axis)
    {
        b.ExpectCounts(-1, 0);
        if (b.InputCount < 1) throw b.Fail("expected at least 1 input");
        var first = b.Input(0).Shape;
        if (axis < 1 || axis >= first.Rank) throw b.Fail($"cannot join axis {axis} of rank-{first.Rank} inputs (the batch axis 0 cannot be joined)");
        long joined = 0;
        for (int n = 0; n < b.InputCount; n++)
        {
            var s = b.Input(n).Shape;
            if (s.Rank != first.Rank) throw b.Fail($"input {n} is {s}; every input must have rank {first.Rank}");
            for (int d = 0; d < s.Rank; d++)
                if (d != axis && s[d] != first[d]) throw b.Fail($"input {n} is {s}; every dimension but {axis} must match {first}");
            joined += s[axis];
        }
        var dims = new int[first.Rank];
        for (int d = 0; d < dims.Length; d++) dims[d] = d == axis ? b.Dimension("joined axis", joined) : first[d];
        b.ExpectShape(b.Output.Shape, new TensorShape(dims), "output");
        long after = 1;
        for (int d = axis + 1; d < first.Rank; d++) after *= first[d];
        int outerStride = b.Dimension("joined slice", joined * after);
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, WindowParams>(WindowKernels.ConcatenateSlice);
        long offset = 0;
        for (int n = 0; n < b.InputCount; n++)
        {
            var s = b.Input(n).Shape;
            int inner = b.Dimension("slice", s[axis] * after);
            var p = new WindowParams { InnerLength = Math.Max(1, inner), OuterStride = outerStride, Offset = b.Dimension("offset", offset), Count = b.Dimension("input size", s.ElementCount) };
            offset += inner;
            if (p.Count == 0) continue;
            var (config, input, output) = (b.Linear(p.Count), b.Input(n).Memory, b.Output.Memory);
            b.Launch(() => kernel(config, input, output, p));
        }
    }

    private static void Pooling2D(IlgpuOpBuilder b, Pooling2DOp op)
    {
        b.ExpectCounts(1, 0);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        int outH = b.WindowOutputSize("height", i.Height, op.Padding.Top, op.Padding.Bottom, op.PoolHeight, op.StrideHeight, 1);
        int outW = b.WindowOutputSize("width", i.Width, op.Padding.Left, op.Padding.Right, op.PoolWidth, op.StrideWidth, 1);
        b.ExpectShape(b.Output.Shape, TensorShape.Nhwc(i.Batch, outH, outW, i.Channels), "output");
        if (b.Count == 0) return;
        var (poolH, padTop) = ReachableTaps(i.Height, outH, op.PoolHeight, op.StrideHeight, op.Padding.Top);
        var (poolW, padLeft) = ReachableTaps(i.Width, outW, op.PoolWidth, op.StrideWidth, op.Padding.Left);
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, WindowParams>(WindowKernels.Pooling2D);
        // Any tap dropped as unreachable lies in the padding of every window, so a window with fewer in-bounds cells
        // than the full pool touches padding; the area is capped to stay a 32-bit count (a larger pool always pads).
        long area = Math.Min((long)op.PoolHeight * op.PoolWidth, int.MaxValue);
        var p = new WindowParams { Batch = i.Batch, InHeight = i.Height, InWidth = i.Width, Channels = i.Channels, OutHeight = outH, OutWidth = outW,
                                   PoolHeight = poolH, PoolWidth = poolW, StrideHeight = op.StrideHeight, StrideWidth = op.StrideWidth,
                                   PadTop = padTop, PadLeft = padLeft, IsMax = op.Mode == PoolingMode.Max ? 1 : 0,
                                   PaddedCellsAreZerosArea = op.PaddedCellsAreZeros ? (int)area : 0 };
        var (config, input, output) = (b.Linear(b.Count), b.Input(0).Memory, b.Output.Memory);
        b.Launch(() => kernel(config, input, output, p));
    }

    /// <summary>
    /// The pool taps <c>[first, end)</c> that some window can place inside the input, as a window size and pad: the kernel
    /// loops over every tap and skips (ignores) padded ones, so a 'same' pool far larger than its map (2^30 on 4x4 is a
    /// valid layer) would loop 2^60 times per output. Tap <c>t</c> of window <c>o</c> reads row <c>o·stride − pad + t</c>,
    /// so only <c>pad − (outputs − 1)·stride ≤ t &lt; pad + input</c> can land inside; dropping the rest changes no
    /// result and leaves at most <c>input + (outputs − 1)·stride</c> taps, less than twice the input for 'same' pooling.
    /// </summary>
    internal static (int Pool, int Pad) ReachableTaps(int input, int outputs, int pool, int stride, int pad)
    {
        long first = Math.Max(0, pad - (long)Math.Max(outputs - 1, 0) * stride), end = Math.Min(pool, (long)pad + input);
        return end <= first ? (pool, pad) : ((int)(end - first), (int)(pad - first));
    }

    private static void GlobalPooling2D(IlgpuOpBuilder b, GlobalPooling2DOp op)
    {
        b.ExpectCounts(1, 0);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        var o = b.Output.Shape;
        if (o.Batch != i.Batch || o.Channels != i.Channels || o.ElementCount != (long)i.Batch * i.Channels)
            throw b.Fail($"expected output ({i.Batch}, {i.Channels}) or ({i.Batch}, 1, 1, {i.Channels}), got {o}");
        LaunchGlobalPooling(b, b.Input(0).Memory, b.Output.Memory, i, op.Mode == PoolingMode.Max);
    }

    private static void LaunchGlobalPooling(IlgpuOpBuilder b, ArrayView<float> input, ArrayView<float> output, TensorShape i, bool isMax)
    {
        int rows = b.Dimension("pooled values", (long)i.Batch * i.Channels);
        if (rows == 0) return;
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, ReductionParams>(ReductionKernels.GlobalPooling2D);
        var p = new ReductionParams { Rows = rows, Length = b.Dimension("pixels", (long)i.Height * i.Width), Step = i.Channels, IsMax = isMax ? 1 : 0 };
        var config = b.Rows(rows);
        b.Launch(() => kernel(config, input, output, p));
    }

    private static void Dense(IlgpuOpBuilder b, DenseOp op)
    {
        b.ExpectCounts(1, op.UseBias ? 2 : 1);
        var i = b.Input(0).Shape;
        if (i.Rank != 2) throw b.Fail($"expected a (batch, features) input, got {i}");
        b.ExpectShape(b.Output.Shape, new TensorShape(i.Batch, op.Units), "output");
        b.ExpectShape(b.Weight(0).Shape, new TensorShape(i.Channels, op.Units), "kernel");
        var activation = op.Activation.IsElementwise ? op.Activation : ActivationFunction.Linear;
        LaunchDense(b, b.Input(0).Memory, b.Upload(b.Weight(0).Span), b.Bias(op.UseBias, op.Units), b.Output.Memory, i.Batch, i.Channels, op.Units, activation);
        if (!op.Activation.IsElementwise) Softmax(b, b.Output.Memory, b.Output.Memory, b.Output.Shape);
    }

    private static void LaunchDense(IlgpuOpBuilder b, ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias, ArrayView<float> output,
        int batch, int inputs, int units, ActivationFunction activation)
    {
        int count = b.Dimension("dense outputs", (long)batch * units);
        if (count == 0) return;
        var kernel = b.Device.Load(KernelActivations.Select(activation, new DenseSelector()));
        var p = new DenseParams { Batch = batch, Inputs = inputs, Units = units, ActivationParameter = KernelActivations.Parameter(activation) };
        var config = b.Linear(count);
        b.Launch(() => kernel(config, input, weights, bias, output, p));
    }

    private static void Copy(IlgpuOpBuilder b)
    {
        b.ExpectCounts(1, 0);
        if (b.Input(0).Shape.ElementCount != b.Count)
            throw b.Fail($"cannot copy {b.Input(0).Shape} ({b.Input(0).Shape.ElementCount} values) into {b.Output.Shape} ({b.Count} values)");
        if (b.Count == 0) return;
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, ElementwiseParams>(ElementwiseKernels.Copy);
        var p = new ElementwiseParams { Count = b.Count, Channels = 1 };
        var (config, input, output) = (b.Linear(p.Count), b.Input(0).Memory, b.Output.Memory);
        b.Launch(() => kernel(config, input, output, p));
    }

    /// <summary>
    /// Global average pool, reduce (dense + activation), expand (dense + sigmoid), then the channel scale, or with
    /// <see cref="SqueezeExcitationOp.ExcitationOnly"/> the expand step writes the output, left for the next convolution.
    /// </summary>
    private static void SqueezeExcitation(IlgpuOpBuilder b, SqueezeExcitationOp op)
    {
        b.ExpectCounts(1, 4);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        int c = i.Channels, r = op.ReducedChannels, n = i.Batch;
        b.ExpectShape(b.Output.Shape, op.ExcitationOnly ? TensorShape.Nhwc(n, 1, 1, c) : i, "output");
        b.ExpectLength(b.Weight(0), (long)c * r, "reduce kernel");
        b.ExpectLength(b.Weight(1), r, "reduce bias");
        b.ExpectLength(b.Weight(2), (long)r * c, "expand kernel");
        b.ExpectLength(b.Weight(3), c, "expand bias");
        var pooled = b.Scratch(new TensorShape(n, c));
        var reduced = b.Scratch(new TensorShape(n, r));
        var scale = op.ExcitationOnly ? b.Output : b.Scratch(TensorShape.Nhwc(n, 1, 1, c));
        LaunchGlobalPooling(b, b.Input(0).Memory, pooled.Memory, i, isMax: false);
        LaunchDense(b, pooled.Memory, b.Upload(b.Weight(0).Span), b.Upload(b.Weight(1).Span), reduced.Memory, n, c, r, op.ReduceActivation);
        LaunchDense(b, reduced.Memory, b.Upload(b.Weight(2).Span), b.Upload(b.Weight(3).Span), scale.Memory, n, r, c, ActivationFunction.Sigmoid);
        if (op.ExcitationOnly || b.Count == 0) return;
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseParams>(ElementwiseKernels.Multiply);
        var p = new ElementwiseParams { Count = b.Count, Channels = Math.Max(1, c), ImageLength = b.Dimension("image size", (long)i.Height * i.Width * c) };
        var (config, input, output) = (b.Linear(p.Count), b.Input(0).Memory, b.Output.Memory);
        var scaleView = scale.Memory;
        b.Launch(() => kernel(config, input, scaleView, output, p));
    }

    private static void LayerNormalization(IlgpuOpBuilder b, LayerNormalizationOp op)
    {
        b.ExpectCounts(1, (op.Scale ? 1 : 0) + (op.Center ? 1 : 0));
        var i = b.Input(0).Shape;
        b.ExpectShape(b.Output.Shape, i, "output");
        int length = i.Channels;
        int w = 0;
        ArrayView<float> gamma = b.Output.Memory, beta = b.Output.Memory;
        if (op.Scale)
        {
            b.ExpectLength(b.Weight(w), length, "gamma");
            gamma = b.Upload(b.Weight(w++).Span);
        }
        if (op.Center)
        {
            b.ExpectLength(b.Weight(w), length, "beta");
            beta = b.Upload(b.Weight(w).Span);
        }
        int rows = length == 0 ? 0 : b.Dimension("rows", i.ElementCount / length);
        if (rows == 0) return;
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ReductionParams>(ReductionKernels.LayerNormalization);
        var p = new ReductionParams { Rows = rows, Length = length, Step = 1, Epsilon = (float)op.Epsilon, HasScale = op.Scale ? 1 : 0, HasCenter = op.Center ? 1 : 0 };
        var (config, input, output) = (b.Rows(rows), b.Input(0).Memory, b.Output.Memory);
        b.Launch(() => kernel(config, input, gamma, beta, output, p));
    }

    /// <summary>Alpha is broadcast to one whole sample once, here, so the kernel indexes it by the value's place in its sample.</summary>
    private static void PRelu(IlgpuOpBuilder b)
    {
        b.ExpectCounts(1, 1);
        var i = b.Input(0).Shape;
        b.ExpectShape(b.Output.Shape, i, "output");
        var alpha = b.Weight(0).Shape;
        if (alpha.Rank != i.Rank - 1) throw b.Fail($"expected alpha of rank {i.Rank - 1} for input {i}, got {alpha}");
        for (int d = 0; d < alpha.Rank; d++)
            if (alpha[d] != 1 && alpha[d] != i[d + 1]) throw b.Fail($"alpha {alpha} does not broadcast over a sample of {i}");
        int sample = b.Dimension("sample size", i.ElementCount / Math.Max(1, i.Batch));
        if (b.Count == 0) return;
        var broadcast = new float[sample];
        var source = b.Weight(0).Span;
        for (int j = 0; j < sample; j++)
        {
            int rest = j, index = 0, stride = 1;
            for (int d = alpha.Rank - 1; d >= 0; d--)
            {
                int size = i[d + 1], at = rest % size;
                rest /= size;
                if (alpha[d] != 1) index += at * stride;
                stride *= alpha[d];
            }
            broadcast[j] = source[index];
        }
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ElementwiseParams>(ElementwiseKernels.PRelu);
        var p = new ElementwiseParams { Count = b.Count, Channels = 1, ImageLength = Math.Max(1, sample) };
        var (config, input, weights, output) = (b.Linear(p.Count), b.Input(0).Memory, b.Upload(broadcast), b.Output.Memory);
        b.Launch(() => kernel(config, input, weights, output, p));
    }

    private static void Conv2DTranspose(IlgpuOpBuilder b, Conv2DTransposeOp op)
    {
        b.ExpectCounts(1, op.UseBias ? 2 : 1);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        if (op.KernelHeight < 1 || op.KernelWidth < 1 || op.StrideHeight < 1 || op.StrideWidth < 1 || op.Filters < 1)
            throw b.Fail($"invalid transposed convolution {op}");
        if (op.PadTop < 0 || op.PadLeft < 0 || op.PadTop >= op.KernelHeight || op.PadLeft >= op.KernelWidth)
            throw b.Fail($"pads {op.PadTop}, {op.PadLeft} must lie in [0, kernel) for a {op.KernelHeight}x{op.KernelWidth} kernel");
        b.ExpectShape(b.Output.Shape, TensorShape.Nhwc(i.Batch, op.OutputHeight, op.OutputWidth, op.Filters), "output");
        b.ExpectShape(b.Weight(0).Shape, new TensorShape(op.KernelHeight, op.KernelWidth, op.Filters, i.Channels), "kernel");
        if (b.Count == 0) return;
        // The gather's iy·stride + ky stays within 32 bits for every shape that passed the output check.
        b.Dimension("scattered height", (long)i.Height * op.StrideHeight + op.KernelHeight);
        b.Dimension("scattered width", (long)i.Width * op.StrideWidth + op.KernelWidth);
        var p = new ConvParams
        {
            Batch = i.Batch, InHeight = i.Height, InWidth = i.Width, InChannels = i.Channels,
            OutHeight = op.OutputHeight, OutWidth = op.OutputWidth, OutChannels = op.Filters,
            KernelHeight = op.KernelHeight, KernelWidth = op.KernelWidth, StrideHeight = op.StrideHeight, StrideWidth = op.StrideWidth,
            DilationHeight = 1, DilationWidth = 1, PadTop = op.PadTop, PadLeft = op.PadLeft, DepthMultiplier = 1,
            ActivationParameter = KernelActivations.Parameter(op.Activation),
        };
        var kernel = b.Device.Load(KernelActivations.Select(op.Activation, new Conv2DTransposeSelector()));
        var (config, input, weights, bias, output) = (b.Linear(b.Count), b.Input(0).Memory, b.Upload(b.Weight(0).Span), b.Bias(op.UseBias, op.Filters), b.Output.Memory);
        b.Launch(() => kernel(config, input, weights, bias, output, p));
    }

    private static void UpSampling2D(IlgpuOpBuilder b, UpSampling2DOp op)
    {
        b.ExpectCounts(1, 0);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        if (op.HeightFactor < 1 || op.WidthFactor < 1) throw b.Fail($"up-sampling factors must be at least 1, got {op.HeightFactor} x {op.WidthFactor}");
        int height = b.Dimension("up-sampled height", (long)i.Height * op.HeightFactor), width = b.Dimension("up-sampled width", (long)i.Width * op.WidthFactor);
        b.ExpectShape(b.Output.Shape, TensorShape.Nhwc(i.Batch, height, width, i.Channels), "output");
        if (b.Count == 0) return;
        var p = new WindowParams { Batch = i.Batch, InHeight = i.Height, InWidth = i.Width, Channels = i.Channels, OutHeight = height, OutWidth = width,
                                   HeightFactor = op.HeightFactor, WidthFactor = op.WidthFactor };
        var (config, input, output) = (b.Linear(b.Count), b.Input(0).Memory, b.Output.Memory);
        if (op.Interpolation == Interpolation.Nearest)
        {
            var nearest = b.Device.Load<ArrayView<float>, ArrayView<float>, WindowParams>(WindowKernels.UpSampleNearest);
            b.Launch(() => nearest(config, input, output, p));
            return;
        }
        if (i.Height >= 1 << 24 || i.Width >= 1 << 24) throw b.Fail($"bilinear up-sampling takes at most 2^24 - 1 rows and columns, got {i}");
        var rows = b.Upload(AxisTable(new Cpu.Kernels.BilinearAxis(i.Height, op.HeightFactor)));
        var columns = b.Upload(AxisTable(new Cpu.Kernels.BilinearAxis(i.Width, op.WidthFactor)));
        var bilinear = b.Device.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, WindowParams>(WindowKernels.UpSampleBilinear);
        b.Launch(() => bilinear(config, input, rows, columns, output, p));
    }

    /// <summary>(lower, upper, weight) per output index, the indices stored as floats (exact below 2^24, checked by the caller).</summary>
    private static float[] AxisTable(Cpu.Kernels.BilinearAxis axis)
    {
        var table = new float[axis.Weight.Length * 3];
        for (int o = 0; o < axis.Weight.Length; o++)
        {
            table[3 * o] = axis.Lower[o];
            table[3 * o + 1] = axis.Upper[o];
            table[3 * o + 2] = axis.Weight[o];
        }
        return table;
    }

    private static void Permute(IlgpuOpBuilder b, PermuteOp op)
    {
        b.ExpectCounts(1, 0);
        var input = b.Input(0).Shape;
        int axes = input.Rank - 1;
        if (axes < 1 || axes > 3 || op.Dims.Count != axes || op.Dims.Order().Select((d, i) => d == i + 1).Any(ok => !ok))
            throw b.Fail($"dims ({string.Join(", ", op.Dims)}) are not a permutation of 1..{axes} for {input}");
        var expected = new int[input.Rank];
        expected[0] = input.Batch;
        for (int i = 0; i < axes; i++) expected[i + 1] = input[op.Dims[i]];
        b.ExpectShape(b.Output.Shape, new TensorShape(expected), "output");
        if (b.Count == 0) return;
        var strides = new long[input.Rank];
        strides[^1] = 1;
        for (int d = input.Rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * input[d + 1];
        // Padded to three sample axes with leading 1s, as the CPU's Permute.
        var outDims = new int[3];
        var inStrides = new int[3];
        int pad = 3 - axes;
        for (int i = 0; i < 3; i++)
        {
            outDims[i] = i < pad ? 1 : expected[i - pad + 1];
            inStrides[i] = i < pad ? 0 : b.Dimension("stride", strides[op.Dims[i - pad]]);
        }
        var p = new WindowParams { OutDim0 = Math.Max(1, outDims[0]), OutDim1 = Math.Max(1, outDims[1]), OutDim2 = Math.Max(1, outDims[2]),
                                   InStride0 = inStrides[0], InStride1 = inStrides[1], InStride2 = inStrides[2],
                                   SampleLength = b.Dimension("sample size", strides[0]), Count = b.Count };
        var kernel = b.Device.Load<ArrayView<float>, ArrayView<float>, WindowParams>(WindowKernels.Permute);
        var (config, source, output) = (b.Linear(b.Count), b.Input(0).Memory, b.Output.Memory);
        b.Launch(() => kernel(config, source, output, p));
    }
}
