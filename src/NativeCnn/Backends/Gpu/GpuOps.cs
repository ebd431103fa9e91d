namespace NativeCnn.Backends.Gpu;

/// <summary>
/// Turns op descriptors into launches of the shared kernels, for any <see cref="GpuRuntime"/>. Shapes are checked as the
/// CPU backend checks them, weights are uploaded once here, and the prepared op only queues launches.
/// </summary>
internal static class GpuOps
{
    /// <summary>The output tile of one conv2d work group per side (BLOCK in the kernel source).</summary>
    private const int ConvolutionBlock = 64;

    /// <summary>Whether the GPU kernels cover <paramref name="op"/>; <paramref name="reason"/> says why not.</summary>
    public static bool Supports(OpDescriptor op, out string? reason)
    {
        reason = op switch
        {
            Conv2DOp { ScalesInputChannels: true } => "the GPU convolution kernel does not scale its input channels",
            SqueezeExcitationOp { ExcitationOnly: true } => "the GPU squeeze-and-excitation kernel always scales its input",
            Pooling2DOp { PaddedCellsAreZeros: true } => "the GPU pooling kernel ignores padded cells; it does not count them as zeros",
            Conv2DOp conv => ElementwiseOnly(conv.Activation, "Conv2D"),
            DepthwiseConv2DOp depthwise => ElementwiseOnly(depthwise.Activation, "DepthwiseConv2D"),
            ChannelAffineOp affine => ElementwiseOnly(affine.Activation, "a channel affine (BatchNormalization)"),
            SqueezeExcitationOp se => ElementwiseOnly(se.ReduceActivation, "squeeze-and-excitation"),
            ActivationOp activation => Known(activation.Activation),
            DenseOp dense => Known(dense.Activation),
            AddOp or MultiplyOp or ZeroPadding2DOp or Pooling2DOp or GlobalPooling2DOp or CopyOp => null,
            null => "no op was given",
            _ => $"the GPU kernels do not cover {op.GetType().Name}",
        };
        return reason is null;
    }

    /// <summary>Prepares <paramref name="op"/> on <paramref name="runtime"/>.</summary>
    /// <exception cref="BackendException">The op is unsupported or the buffers do not fit it.</exception>
    public static IPreparedOp Prepare(GpuRuntime runtime, OpDescriptor op, OpBinding binding)
    {
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(binding);
        if (!Supports(op, out var reason)) throw new BackendException($"{binding.LayerName}: {runtime.Name} cannot run {op.GetType().Name}: {reason}.");
        var builder = new GpuOpBuilder(runtime, binding);
        try
        {
            switch (op)
            {
                case Conv2DOp conv: Conv2D(builder, conv); break;
                case DepthwiseConv2DOp depthwise: DepthwiseConv2D(builder, depthwise); break;
                case ChannelAffineOp affine: ChannelAffine(builder, affine); break;
                case ActivationOp activation: Activation(builder, activation.Activation); break;
                case AddOp: Add(builder); break;
                case MultiplyOp: Multiply(builder); break;
                case ZeroPadding2DOp padding: ZeroPadding2D(builder, padding); break;
                case Pooling2DOp pooling: Pooling2D(builder, pooling); break;
                case GlobalPooling2DOp global: GlobalPooling2D(builder, global); break;
                case DenseOp dense: Dense(builder, dense); break;
                case CopyOp: Copy(builder); break;
                case SqueezeExcitationOp se: SqueezeExcitation(builder, se); break;
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
        activation.IsElementwise ? Known(activation) : $"{activation} cannot be fused into {what}; only Dense and Activation take softmax";

    /// <summary>Null when the kernels implement <paramref name="activation"/>, else the reason (the activations added for the
    /// Keras layers of later models run on the CPU until the ILGPU kernels cover them).</summary>
    private static string? Known(ActivationFunction activation) => activation.Kind switch
    {
        ActivationKind.Linear or ActivationKind.Relu or ActivationKind.Sigmoid or ActivationKind.Swish or ActivationKind.Tanh
            or ActivationKind.Softmax => null,
        _ => $"the GPU kernels have no {activation} activation",
    };

    private static void Conv2D(GpuOpBuilder b, Conv2DOp op)
    {
        b.ExpectCounts(op.AddsResidual ? 2 : 1, op.UseBias ? 2 : 1);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        int outH = b.WindowOutputSize("height", i.Height, op.Padding.Top, op.Padding.Bottom, op.KernelHeight, op.StrideHeight, op.DilationHeight);
        int outW = b.WindowOutputSize("width", i.Width, op.Padding.Left, op.Padding.Right, op.KernelWidth, op.StrideWidth, op.DilationWidth);
        b.ExpectShape(b.Output.Shape, TensorShape.Nhwc(i.Batch, outH, outW, op.Filters), "output");
        b.ExpectShape(b.Weight(0).Shape, new TensorShape(op.KernelHeight, op.KernelWidth, i.Channels, op.Filters), "kernel");
        var kernel = b.Upload(b.Weight(0).Span);
        var bias = b.Bias(op.UseBias, op.Filters);
        var residual = op.AddsResidual ? b.Input(1) : b.Output;
        if (op.AddsResidual) b.ExpectShape(residual.Shape, b.Output.Shape, "residual input");
        var (act, cap) = Code(op.Activation);
        b.Launch("conv2d", LaunchGeometry.Blocked((long)i.Batch * outH * outW, op.Filters, ConvolutionBlock),
            [b.Input(0), kernel, bias, residual, b.Output, i.Batch, i.Height, i.Width, i.Channels, outH, outW, op.Filters,
             op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth, op.DilationHeight, op.DilationWidth,
             op.Padding.Top, op.Padding.Left, op.AddsResidual, act, cap]);
    }

    private static void DepthwiseConv2D(GpuOpBuilder b, DepthwiseConv2DOp op)
    {
        b.ExpectCounts(1, op.UseBias ? 2 : 1);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        int outH = b.WindowOutputSize("height", i.Height, op.Padding.Top, op.Padding.Bottom, op.KernelHeight, op.StrideHeight, op.DilationHeight);
        int outW = b.WindowOutputSize("width", i.Width, op.Padding.Left, op.Padding.Right, op.KernelWidth, op.StrideWidth, op.DilationWidth);
        int outC = b.Dimension("output channels", (long)i.Channels * op.DepthMultiplier);
        b.ExpectShape(b.Output.Shape, TensorShape.Nhwc(i.Batch, outH, outW, outC), "output");
        b.ExpectShape(b.Weight(0).Shape, new TensorShape(op.KernelHeight, op.KernelWidth, i.Channels, op.DepthMultiplier), "depthwise kernel");
        var kernel = b.Upload(b.Weight(0).Span);
        var bias = b.Bias(op.UseBias, outC);
        var (act, cap) = Code(op.Activation);
        b.Launch("depthwise_conv2d", LaunchGeometry.Linear(b.Output.Shape.ElementCount),
            [b.Input(0), kernel, bias, b.Output, i.Batch, i.Height, i.Width, i.Channels, outH, outW, op.DepthMultiplier,
             op.KernelHeight, op.KernelWidth, op.StrideHeight, op.StrideWidth, op.DilationHeight, op.DilationWidth,
             op.Padding.Top, op.Padding.Left, act, cap]);
    }

    private static void ChannelAffine(GpuOpBuilder b, ChannelAffineOp op)
    {
        b.ExpectCounts(1, 0);
        int channels = b.Input(0).Shape.Channels;
        if (op.Scale.Length != channels || op.Shift.Length != channels)
            throw b.Fail($"expected {channels} scale and shift values, got {op.Scale.Length} and {op.Shift.Length}");
        b.ExpectShape(b.Output.Shape, b.Input(0).Shape, "output");
        var (act, cap) = Code(op.Activation);
        b.Launch("channel_affine", LaunchGeometry.Linear(b.Output.Shape.ElementCount),
            [b.Input(0), b.Upload(op.Scale), b.Upload(op.Shift), b.Output, b.Count, Math.Max(1, channels), act, cap]);
    }

    private static void Activation(GpuOpBuilder b, ActivationFunction activation)
    {
        b.ExpectCounts(1, 0);
        b.ExpectShape(b.Output.Shape, b.Input(0).Shape, "output");
        if (!activation.IsElementwise)
        {
            int length = b.Input(0).Shape.Channels;
            int rows = length == 0 ? 0 : b.Count / length;
            b.Launch("softmax_rows", LaunchGeometry.Linear(rows), [b.Input(0), b.Output, rows, length]);
            return;
        }
        var (act, cap) = Code(activation);
        b.Launch("activation", LaunchGeometry.Linear(b.Count), [b.Input(0), b.Output, b.Count, act, cap]);
    }

    private static void Add(GpuOpBuilder b)
    {
        b.ExpectCounts(-1, 0);
        if (b.InputCount < 2) throw b.Fail($"expected at least 2 inputs, got {b.InputCount}");
        for (int i = 0; i < b.InputCount; i++) b.ExpectShape(b.Input(i).Shape, b.Output.Shape, $"input {i}");
        b.Launch("add", LaunchGeometry.Linear(b.Count), [b.Input(0), b.Input(1), b.Output, b.Count]);
        for (int i = 2; i < b.InputCount; i++) b.Launch("add", LaunchGeometry.Linear(b.Count), [b.Output, b.Input(i), b.Output, b.Count]);
    }

    private static void Multiply(GpuOpBuilder b)
    {
        b.ExpectCounts(2, 0);
        TensorShape left = b.Input(0).Shape, right = b.Input(1).Shape;
        b.ExpectShape(b.Output.Shape, left, "output");
        int imageLength;
        if (left == right) imageLength = 0;
        else if (left.Rank == 4 && right == TensorShape.Nhwc(left.Batch, 1, 1, left.Channels)) imageLength = left.Height * left.Width * left.Channels;
        else throw b.Fail($"cannot multiply {left} by {right}: shapes must be equal or the second (N, 1, 1, C)");
        b.Launch("multiply", LaunchGeometry.Linear(b.Count), [b.Input(0), b.Input(1), b.Output, b.Count, Math.Max(1, left.Channels), imageLength]);
    }

    private static void ZeroPadding2D(GpuOpBuilder b, ZeroPadding2DOp op)
    {
        b.ExpectCounts(1, 0);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        var pad = op.Padding;
        if (pad.Top < 0 || pad.Bottom < 0 || pad.Left < 0 || pad.Right < 0) throw b.Fail($"padding must be non-negative, got {pad}");
        int outH = b.Dimension("padded height", (long)i.Height + pad.Top + pad.Bottom), outW = b.Dimension("padded width", (long)i.Width + pad.Left + pad.Right);
        b.ExpectShape(b.Output.Shape, TensorShape.Nhwc(i.Batch, outH, outW, i.Channels), "output");
        b.Launch("zero_padding2d", LaunchGeometry.Linear(b.Count),
            [b.Input(0), b.Output, i.Batch, i.Height, i.Width, i.Channels, outH, outW, op.Padding.Top, op.Padding.Left]);
    }

    private static void Pooling2D(GpuOpBuilder b, Pooling2DOp op)
    {
        b.ExpectCounts(1, 0);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        int outH = b.WindowOutputSize("height", i.Height, op.Padding.Top, op.Padding.Bottom, op.PoolHeight, op.StrideHeight, 1);
        int outW = b.WindowOutputSize("width", i.Width, op.Padding.Left, op.Padding.Right, op.PoolWidth, op.StrideWidth, 1);
        b.ExpectShape(b.Output.Shape, TensorShape.Nhwc(i.Batch, outH, outW, i.Channels), "output");
        var (poolH, padTop) = ReachableTaps(i.Height, outH, op.PoolHeight, op.StrideHeight, op.Padding.Top);
        var (poolW, padLeft) = ReachableTaps(i.Width, outW, op.PoolWidth, op.StrideWidth, op.Padding.Left);
        b.Launch("pooling2d", LaunchGeometry.Linear(b.Count),
            [b.Input(0), b.Output, i.Batch, i.Height, i.Width, i.Channels, outH, outW, poolH, poolW,
             op.StrideHeight, op.StrideWidth, padTop, padLeft, op.Mode == PoolingMode.Max]);
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

    private static void GlobalPooling2D(GpuOpBuilder b, GlobalPooling2DOp op)
    {
        b.ExpectCounts(1, 0);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        var o = b.Output.Shape;
        if (o.Batch != i.Batch || o.Channels != i.Channels || o.ElementCount != (long)i.Batch * i.Channels)
            throw b.Fail($"expected output ({i.Batch}, {i.Channels}) or ({i.Batch}, 1, 1, {i.Channels}), got {o}");
        b.Launch("global_pooling2d", LaunchGeometry.Linear(o.ElementCount),
            [b.Input(0), b.Output, i.Batch, i.Height * i.Width, i.Channels, op.Mode == PoolingMode.Max]);
    }

    private static void Dense(GpuOpBuilder b, DenseOp op)
    {
        b.ExpectCounts(1, op.UseBias ? 2 : 1);
        var i = b.Input(0).Shape;
        if (i.Rank != 2) throw b.Fail($"expected a (batch, features) input, got {i}");
        b.ExpectShape(b.Output.Shape, new TensorShape(i.Batch, op.Units), "output");
        b.ExpectShape(b.Weight(0).Shape, new TensorShape(i.Channels, op.Units), "kernel");
        var (act, cap) = Code(op.Activation.IsElementwise ? op.Activation : ActivationFunction.Linear);
        b.Launch("dense", LaunchGeometry.Linear(b.Count),
            [b.Input(0), b.Upload(b.Weight(0).Span), b.Bias(op.UseBias, op.Units), b.Output, i.Batch, i.Channels, op.Units, act, cap]);
        if (!op.Activation.IsElementwise)
            b.Launch("softmax_rows", LaunchGeometry.Linear(i.Batch), [b.Output, b.Output, i.Batch, op.Units]);
    }

    private static void Copy(GpuOpBuilder b)
    {
        b.ExpectCounts(1, 0);
        if (b.Input(0).Shape.ElementCount != b.Count)
            throw b.Fail($"cannot copy {b.Input(0).Shape} ({b.Input(0).Shape.ElementCount} values) into {b.Output.Shape} ({b.Count} values)");
        b.Launch("copy", LaunchGeometry.Linear(b.Count), [b.Input(0), b.Output, b.Count]);
    }

    /// <summary>Four launches: global average pool, reduce (dense + activation), expand (dense + sigmoid), channel scale.</summary>
    private static void SqueezeExcitation(GpuOpBuilder b, SqueezeExcitationOp op)
    {
        b.ExpectCounts(1, 4);
        var i = b.Input(0).Shape;
        if (i.Rank != 4) throw b.Fail($"expected an NHWC input, got {i}");
        b.ExpectShape(b.Output.Shape, i, "output");
        int c = i.Channels, r = op.ReducedChannels, n = i.Batch;
        b.ExpectLength(b.Weight(0), (long)c * r, "reduce kernel");
        b.ExpectLength(b.Weight(1), r, "reduce bias");
        b.ExpectLength(b.Weight(2), (long)r * c, "expand kernel");
        b.ExpectLength(b.Weight(3), c, "expand bias");
        var pooled = b.Scratch(new TensorShape(n, c));
        var reduced = b.Scratch(new TensorShape(n, r));
        var scale = b.Scratch(TensorShape.Nhwc(n, 1, 1, c));
        var (act, cap) = Code(op.ReduceActivation);
        var (sigmoid, none) = Code(ActivationFunction.Sigmoid);
        b.Launch("global_pooling2d", LaunchGeometry.Linear((long)n * c), [b.Input(0), pooled, n, i.Height * i.Width, c, false]);
        b.Launch("dense", LaunchGeometry.Linear((long)n * r),
            [pooled, b.Upload(b.Weight(0).Span), b.Upload(b.Weight(1).Span), reduced, n, c, r, act, cap]);
        b.Launch("dense", LaunchGeometry.Linear((long)n * c),
            [reduced, b.Upload(b.Weight(2).Span), b.Upload(b.Weight(3).Span), scale, n, r, c, sigmoid, none]);
        b.Launch("multiply", LaunchGeometry.Linear(b.Count),
            [b.Input(0), scale, b.Output, b.Count, Math.Max(1, c), i.Height * i.Width * c]);
    }

    /// <summary>The kernels' activation code and ReLU cap (<see cref="float.MaxValue"/> for none, so no infinity is passed).</summary>
    private static (int Code, float Cap) Code(ActivationFunction activation) => activation.Kind switch
    {
        ActivationKind.Linear => (0, float.MaxValue),
        ActivationKind.Relu => (1, float.IsPositiveInfinity(activation.MaxValue) ? float.MaxValue : activation.MaxValue),
        ActivationKind.Sigmoid => (2, float.MaxValue),
        ActivationKind.Swish => (3, float.MaxValue),
        ActivationKind.Tanh => (4, float.MaxValue),
        _ => throw new NotSupportedException($"{activation} is not element-wise."),
    };
}
