using NativeCnn.Backends;

namespace NativeCnn.Backends.Conformance;

/// <summary>
/// The op conformance catalog: every descriptor a plan emits, fused variants included, on shapes chosen to break tiled
/// kernels (H ≠ W, odd sizes, channel counts off multiples of 16, stride 2 on odd inputs, kernels 1/3/5, batch &gt; 1).
/// A new backend is conformant when every case's <see cref="Error"/> against the CPU backend is within
/// <see cref="Tolerance"/> (what <c>GpuCheck</c> and the GPU tests check).
/// </summary>
public static class OpConformance
{
    /// <summary>Relative tolerance against the CPU backend, scaled by <c>max(|expected|, 1)</c>.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>All cases.</summary>
    public static IReadOnlyList<OpConformanceCase> All { get; } = Build();

    /// <summary>The largest <c>|actual − expected| / max(|expected|, 1)</c>; NaN or infinity count as failures (infinity).</summary>
    /// <param name="expected">The CPU backend's output.</param>
    /// <param name="actual">The backend's output.</param>
    public static double Error(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        if (expected.Length != actual.Length) return double.PositiveInfinity;
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double error = Math.Abs(a - e) / Math.Max(Math.Abs(e), 1.0);
            if (double.IsNaN(error)) return double.PositiveInfinity;
            worst = Math.Max(worst, error);
        }
        return worst;
    }

    private static List<OpConformanceCase> Build()
    {
        var cases = new List<OpConformanceCase>();
        void Conv(int n, int h, int w, int c, int filters, int k, int stride, Padding padding, ActivationFunction act,
                  bool bias = true, int dilation = 1, bool residual = false)
        {
            var pads = Padding2D.Resolve(padding, h, w, k, k, stride, stride, dilation, dilation);
            int oh = Padding2D.OutputSize(h, pads.Top, pads.Bottom, k, stride, dilation);
            int ow = Padding2D.OutputSize(w, pads.Left, pads.Right, k, stride, dilation);
            var output = TensorShape.Nhwc(n, oh, ow, filters);
            TensorShape[] inputs = residual ? [TensorShape.Nhwc(n, h, w, c), output] : [TensorShape.Nhwc(n, h, w, c)];
            TensorShape[] weights = bias ? [new TensorShape(k, k, c, filters), new TensorShape(filters)] : [new TensorShape(k, k, c, filters)];
            cases.Add(new OpConformanceCase($"conv2d {n}x{h}x{w}x{c}->{filters} k{k} s{stride} d{dilation} {padding} {act}{(bias ? "" : " nobias")}{(residual ? " +residual" : "")}",
                new Conv2DOp(k, k, stride, stride, dilation, dilation, pads, filters, bias, act, residual), inputs, weights, output));
        }
        void Depthwise(int n, int h, int w, int c, int multiplier, int k, int stride, Padding padding, ActivationFunction act, bool bias = true, int dilation = 1)
        {
            var pads = Padding2D.Resolve(padding, h, w, k, k, stride, stride, dilation, dilation);
            int oh = Padding2D.OutputSize(h, pads.Top, pads.Bottom, k, stride, dilation);
            int ow = Padding2D.OutputSize(w, pads.Left, pads.Right, k, stride, dilation);
            TensorShape[] weights = bias ? [new TensorShape(k, k, c, multiplier), new TensorShape(c * multiplier)] : [new TensorShape(k, k, c, multiplier)];
            cases.Add(new OpConformanceCase($"depthwise {n}x{h}x{w}x{c} m{multiplier} k{k} s{stride} d{dilation} {padding} {act}{(bias ? "" : " nobias")}",
                new DepthwiseConv2DOp(k, k, stride, stride, dilation, dilation, pads, multiplier, bias, act),
                [TensorShape.Nhwc(n, h, w, c)], weights, TensorShape.Nhwc(n, oh, ow, c * multiplier)));
        }
        void Pool(PoolingMode mode, int n, int h, int w, int c, int k, int stride, Padding padding)
        {
            var pads = Padding2D.Resolve(padding, h, w, k, k, stride, stride);
            int oh = Padding2D.OutputSize(h, pads.Top, pads.Bottom, k, stride), ow = Padding2D.OutputSize(w, pads.Left, pads.Right, k, stride);
            cases.Add(new OpConformanceCase($"pool {mode} {n}x{h}x{w}x{c} k{k} s{stride} {padding}", new Pooling2DOp(mode, k, k, stride, stride, pads),
                [TensorShape.Nhwc(n, h, w, c)], [], TensorShape.Nhwc(n, oh, ow, c)));
        }
        void Unary(string name, OpDescriptor op, TensorShape shape) => cases.Add(new OpConformanceCase(name, op, [shape], [], shape));

        Conv(2, 9, 7, 3, 17, 3, 1, Padding.Same, ActivationFunction.Relu);
        Conv(2, 6, 5, 33, 7, 1, 1, Padding.Valid, ActivationFunction.Linear, bias: false);
        Conv(1, 11, 9, 7, 16, 5, 2, Padding.Same, ActivationFunction.Swish);
        Conv(3, 7, 9, 17, 33, 3, 2, Padding.Valid, ActivationFunction.Relu6);
        Conv(1, 9, 8, 5, 8, 3, 1, Padding.Same, ActivationFunction.Sigmoid, dilation: 2);
        Conv(2, 5, 7, 16, 24, 1, 1, Padding.Same, ActivationFunction.Relu6, residual: true);
        Conv(1, 7, 5, 1, 3, 3, 1, Padding.Same, ActivationFunction.Tanh, bias: false, residual: true);
        Conv(2, 13, 11, 40, 65, 1, 2, Padding.Valid, ActivationFunction.Swish);

        Depthwise(2, 9, 7, 17, 1, 3, 1, Padding.Same, ActivationFunction.Relu6);
        Depthwise(1, 11, 9, 7, 2, 5, 2, Padding.Same, ActivationFunction.Swish);
        Depthwise(2, 8, 7, 33, 1, 3, 2, Padding.Valid, ActivationFunction.Linear, bias: false);
        Depthwise(1, 9, 10, 3, 1, 3, 1, Padding.Same, ActivationFunction.Relu, dilation: 2);

        cases.Add(new OpConformanceCase("channel affine 2x5x3x17 relu6", new ChannelAffineOp(Ramp(17, 0.5f, 0.1f), Ramp(17, -0.3f, 0.05f), ActivationFunction.Relu6),
            [TensorShape.Nhwc(2, 5, 3, 17)], [], TensorShape.Nhwc(2, 5, 3, 17)));
        cases.Add(new OpConformanceCase("channel affine 3x33 sigmoid", new ChannelAffineOp(Ramp(33, -1f, 0.07f), Ramp(33, 0.2f, -0.01f), ActivationFunction.Sigmoid),
            [new TensorShape(3, 33)], [], new TensorShape(3, 33)));

        foreach (var act in (ActivationFunction[])[ActivationFunction.Linear, ActivationFunction.Relu, ActivationFunction.Relu6,
                     ActivationFunction.Sigmoid, ActivationFunction.Swish, ActivationFunction.Tanh])
            Unary($"activation {act} 2x7x5x3", new ActivationOp(act), TensorShape.Nhwc(2, 7, 5, 3));
        Unary("activation softmax 2x4x3x10", new ActivationOp(ActivationFunction.Softmax), TensorShape.Nhwc(2, 4, 3, 10));
        Unary("activation softmax 3x1000", new ActivationOp(ActivationFunction.Softmax), new TensorShape(3, 1000));

        var addShape = TensorShape.Nhwc(2, 5, 7, 17);
        cases.Add(new OpConformanceCase("add 2 inputs", new AddOp(), [addShape, addShape], [], addShape));
        cases.Add(new OpConformanceCase("add 3 inputs", new AddOp(), [addShape, addShape, addShape], [], addShape));
        cases.Add(new OpConformanceCase("multiply same shape", new MultiplyOp(), [addShape, addShape], [], addShape));
        cases.Add(new OpConformanceCase("multiply by channel", new MultiplyOp(), [addShape, TensorShape.Nhwc(2, 1, 1, 17)], [], addShape));

        cases.Add(new OpConformanceCase("zero padding (1,2,0,3)", new ZeroPadding2DOp(new Padding2D(1, 2, 0, 3)),
            [TensorShape.Nhwc(2, 5, 7, 3)], [], TensorShape.Nhwc(2, 8, 10, 3)));

        Pool(PoolingMode.Max, 2, 9, 7, 5, 3, 2, Padding.Same);
        Pool(PoolingMode.Average, 1, 7, 8, 3, 3, 1, Padding.Same);
        Pool(PoolingMode.Max, 2, 8, 6, 17, 2, 2, Padding.Valid);
        Pool(PoolingMode.Average, 2, 7, 9, 4, 2, 2, Padding.Valid);

        cases.Add(new OpConformanceCase("global average -> (N, C)", new GlobalPooling2DOp(PoolingMode.Average), [addShape], [], new TensorShape(2, 17)));
        cases.Add(new OpConformanceCase("global max -> (N, 1, 1, C)", new GlobalPooling2DOp(PoolingMode.Max), [addShape], [], TensorShape.Nhwc(2, 1, 1, 17)));

        cases.Add(new OpConformanceCase("dense 3x33->17 relu", new DenseOp(17, true, ActivationFunction.Relu),
            [new TensorShape(3, 33)], [new TensorShape(33, 17), new TensorShape(17)], new TensorShape(3, 17)));
        cases.Add(new OpConformanceCase("dense 2x50->1000 softmax", new DenseOp(1000, true, ActivationFunction.Softmax),
            [new TensorShape(2, 50)], [new TensorShape(50, 1000), new TensorShape(1000)], new TensorShape(2, 1000)));
        cases.Add(new OpConformanceCase("dense 4x7->5 tanh nobias", new DenseOp(5, false, ActivationFunction.Tanh),
            [new TensorShape(4, 7)], [new TensorShape(7, 5)], new TensorShape(4, 5)));

        cases.Add(new OpConformanceCase("copy (reshape)", new CopyOp(), [TensorShape.Nhwc(2, 3, 4, 5)], [], new TensorShape(2, 60)));

        cases.Add(new OpConformanceCase("squeeze-excitation 2x5x7x17 r4 swish", new SqueezeExcitationOp(4, ActivationFunction.Swish), [addShape],
            [new TensorShape(1, 1, 17, 4), new TensorShape(4), new TensorShape(1, 1, 4, 17), new TensorShape(17)], addShape));
        cases.Add(new OpConformanceCase("squeeze-excitation 1x3x3x33 r8 relu", new SqueezeExcitationOp(8, ActivationFunction.Relu), [TensorShape.Nhwc(1, 3, 3, 33)],
            [new TensorShape(1, 1, 33, 8), new TensorShape(8), new TensorShape(1, 1, 8, 33), new TensorShape(33)], TensorShape.Nhwc(1, 3, 3, 33)));

        // The Keras-breadth layers (merges, resampling, separable convolution, the newer activations).
        var small = TensorShape.Nhwc(2, 5, 7, 3);
        cases.Add(new OpConformanceCase("concatenate channels 17+3+17", new ConcatenateOp(3), [addShape, TensorShape.Nhwc(2, 5, 7, 3), addShape], [], TensorShape.Nhwc(2, 5, 7, 37)));
        cases.Add(new OpConformanceCase("concatenate rows", new ConcatenateOp(1), [small, TensorShape.Nhwc(2, 2, 7, 3)], [], TensorShape.Nhwc(2, 7, 7, 3)));
        foreach (var mode in Enum.GetValues<MergeMode>())
        {
            TensorShape[] inputs = mode == MergeMode.Subtract ? [addShape, addShape] : [addShape, addShape, addShape];
            cases.Add(new OpConformanceCase($"merge {mode.ToString().ToLowerInvariant()}", new MergeOp(mode), inputs, [], addShape));
        }
        cases.Add(new OpConformanceCase("up-sampling 2x3 nearest", new UpSampling2DOp(2, 3, Interpolation.Nearest), [small], [], TensorShape.Nhwc(2, 10, 21, 3)));
        cases.Add(new OpConformanceCase("up-sampling 3x2 bilinear", new UpSampling2DOp(3, 2, Interpolation.Bilinear), [addShape], [], TensorShape.Nhwc(2, 15, 14, 17)));
        cases.Add(new OpConformanceCase("cropping (1,2,0,3)", new Cropping2DOp(new Padding2D(1, 2, 0, 3)), [small], [], TensorShape.Nhwc(2, 2, 4, 3)));
        var separablePads = Padding2D.Resolve(Padding.Same, 5, 7, 3, 3, 2, 2);
        cases.Add(new OpConformanceCase("separable 3x3 s2 m2 same -> 9 relu",
            new SeparableConv2DOp(new DepthwiseConv2DOp(3, 3, 2, 2, 1, 1, separablePads, 2, false, ActivationFunction.Linear),
                                  new Conv2DOp(1, 1, 1, 1, 1, 1, Padding2D.None, 9, true, ActivationFunction.Relu)),
            [small], [new TensorShape(3, 3, 3, 2), new TensorShape(1, 1, 6, 9), new TensorShape(9)], TensorShape.Nhwc(2, 3, 4, 9)));
        cases.Add(new OpConformanceCase("layer normalization 17 channels", new LayerNormalizationOp(1e-3, true, true), [addShape], [new TensorShape(17), new TensorShape(17)], addShape));
        // Transposed convolutions: 'same' stride 2 (pad (k - s) / 2), 'valid' stride 3 with a kernel smaller than the stride (gaps).
        cases.Add(new OpConformanceCase("conv2d transpose 3x3 s2 same 3->17 swish", new Conv2DTransposeOp(3, 3, 2, 2, 0, 0, 10, 14, 17, true, ActivationFunction.Swish),
            [small], [new TensorShape(3, 3, 17, 3), new TensorShape(17)], TensorShape.Nhwc(2, 10, 14, 17)));
        cases.Add(new OpConformanceCase("conv2d transpose 2x2 s3 valid 3->5 nobias", new Conv2DTransposeOp(2, 2, 3, 3, 0, 0, 15, 21, 5, false, ActivationFunction.Linear),
            [small], [new TensorShape(2, 2, 5, 3)], TensorShape.Nhwc(2, 15, 21, 5)));
        cases.Add(new OpConformanceCase("prelu per channel", new PReluOp(), [addShape], [new TensorShape(1, 1, 17)], addShape));
        cases.Add(new OpConformanceCase("prelu per element", new PReluOp(), [small], [new TensorShape(5, 7, 3)], small));
        cases.Add(new OpConformanceCase("permute (2, 1, 3)", new PermuteOp([2, 1, 3]), [small], [], TensorShape.Nhwc(2, 7, 5, 3)));
        cases.Add(new OpConformanceCase("permute (3, 1, 2)", new PermuteOp([3, 1, 2]), [small], [], TensorShape.Nhwc(2, 3, 5, 7)));
        foreach (var activation in new[] { ActivationFunction.HardSwish, ActivationFunction.LeakyRelu(0.3f), ActivationFunction.Elu(0.7f), ActivationFunction.Selu,
                                           ActivationFunction.HardSigmoid, ActivationFunction.HardSigmoidKeras2, ActivationFunction.Gelu, ActivationFunction.Softplus })
            cases.Add(new OpConformanceCase($"activation {activation}", new ActivationOp(activation), [addShape], [], addShape));
        return cases;
    }

    private static float[] Ramp(int length, float start, float step)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = start + step * i;
        return values;
    }
}
