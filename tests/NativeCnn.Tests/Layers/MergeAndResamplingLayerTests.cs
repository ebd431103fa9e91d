using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Layers;
using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Tests.Backends.Cpu.Kernels;
using NativeCnn.Tests.Models;
using NativeCnn.Weights.Keras;

namespace NativeCnn.Tests.Layers;

/// <summary>
/// Concatenate, Subtract/Maximum/Minimum/Average, UpSampling2D and Cropping2D: against index-mapping references computed
/// here, TensorFlow 2's bilinear values, and a TensorFlow.js model compared layer by layer.
/// </summary>
public sealed class MergeAndResamplingLayerTests
{
    private const int Height = 5, Width = 6, Channels = 3;

    /// <summary>Three different tensors from one input (Rescaling by different factors), their values read from the plan.</summary>
    private static (Node Input, Node A, Node B, Node C) Branches()
    {
        var input = Node.Input(Height, Width, Channels, "x");
        return (input, new Rescaling("a", 0.5f, -1f).Call(input), new Rescaling("b", -1.5f, 0.25f).Call(input), new Rescaling("c", 2f).Call(input));
    }

    /// <summary>Runs layer by layer on a seeded input; returns the output and the named activations as host tensors.</summary>
    private static (float[] Output, Dictionary<string, float[]> Activations) Run(Node input, Node output, params string[] activations)
    {
        using var model = new Model("m", input, output);
        using var backend = new CpuBackend(threadCount: 2);
        using var plan = model.CreatePlan(backend, batch: 2, fuse: false);
        var random = new Random(7);
        var x = new float[plan.Input.Shape.ElementCount];
        for (int i = 0; i < x.Length; i++) x[i] = random.NextSingle() * 4 - 2;
        plan.Input.CopyFrom(x);
        plan.Run();
        var result = new float[plan.Output.Shape.ElementCount];
        plan.Output.CopyTo(result);
        var read = new Dictionary<string, float[]> { ["x"] = x };
        foreach (string name in activations)
        {
            var buffer = plan.GetActivation(name);
            read[name] = new float[buffer.Shape.ElementCount];
            buffer.CopyTo(read[name]);
        }
        return (result, read);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(-1, 3)]
    [InlineData(-2, 2)]
    [InlineData(-3, 1)]
    public void ConcatenateJoinsTheAxisKerasNames(int axis, int resolved)
    {
        var (input, a, b, c) = Branches();
        var joined = new Concatenate("joined", axis).Call(a, b, c);
        int[] expectedDims = [2, Height, Width, Channels];
        expectedDims[resolved] *= 3;
        Assert.Equal(new TensorShape([1, .. expectedDims[1..]]), joined.OutputShape);

        var (output, v) = Run(input, joined, "a", "b", "c");
        float[][] parts = [v["a"], v["b"], v["c"]];
        int[] dims = [2, Height, Width, Channels];
        int count = 0;
        for (int n = 0; n < 2; n++)
        for (int h = 0; h < expectedDims[1]; h++)
        for (int w = 0; w < expectedDims[2]; w++)
        for (int ch = 0; ch < expectedDims[3]; ch++)
        {
            int[] index = [n, h, w, ch];
            int part = index[resolved] / dims[resolved];
            index[resolved] %= dims[resolved];
            float expected = parts[part][((index[0] * Height + index[1]) * Width + index[2]) * Channels + index[3]];
            Assert.Equal(expected, output[((n * expectedDims[1] + h) * expectedDims[2] + w) * expectedDims[3] + ch]);
            count++;
        }
        Assert.Equal(output.Length, count);
    }

    [Fact]
    public void ConcatenateOfFeatureVectorsJoinsTheFeatures()
    {
        var (input, a, b, _) = Branches();
        var joined = new Concatenate("joined").Call(new GlobalAveragePooling2D("pa").Call(a), new GlobalMaxPooling2D("pb").Call(b));
        Assert.Equal(new TensorShape(1, 2 * Channels), joined.OutputShape);
        var (output, v) = Run(input, joined, "pa", "pb");
        for (int n = 0; n < 2; n++)
        {
            Assert.Equal(v["pa"].AsSpan(n * Channels, Channels).ToArray(), output.AsSpan(n * 2 * Channels, Channels).ToArray());
            Assert.Equal(v["pb"].AsSpan(n * Channels, Channels).ToArray(), output.AsSpan(n * 2 * Channels + Channels, Channels).ToArray());
        }
    }

    [Fact]
    public void ConcatenateRefusesShapesThatDisagreeOutsideTheAxisAndTheBatchAxis()
    {
        var (_, a, _, _) = Branches();
        var small = new Cropping2D("small", new Padding2D(1, 0, 0, 0)).Call(a);
        var e = Assert.Throws<LayerException>(() => new Concatenate("joined").Call(a, small));
        Assert.Contains("input 1 is (1, 4, 6, 3), which differs from input 0 ((1, 5, 6, 3)) outside axis -1", e.Message);
        Assert.Contains("joined", e.Message);
        Assert.Throws<LayerException>(() => new Concatenate("batch", 0).Call(a, a));
        Assert.Throws<LayerException>(() => new Concatenate("one").Call(a));
    }

    [Theory]
    [InlineData(MergeMode.Subtract)]
    [InlineData(MergeMode.Maximum)]
    [InlineData(MergeMode.Minimum)]
    [InlineData(MergeMode.Average)]
    public void MergeLayersComputeKerasValuesExactly(MergeMode mode)
    {
        var (input, a, b, c) = Branches();
        Node merged = mode switch
        {
            MergeMode.Subtract => new Subtract("merged").Call(a, b),
            MergeMode.Maximum => new Maximum("merged").Call(a, b, c),
            MergeMode.Minimum => new Minimum("merged").Call(a, b, c),
            _ => new Average("merged").Call(a, b, c),
        };
        var (output, v) = mode == MergeMode.Subtract ? Run(input, merged, "a", "b") : Run(input, merged, "a", "b", "c");
        for (int i = 0; i < output.Length; i++)
        {
            float x = v["a"][i], y = v["b"][i], z = mode == MergeMode.Subtract ? 0 : v["c"][i];
            float expected = mode switch
            {
                MergeMode.Subtract => x - y,
                MergeMode.Maximum => MathF.Max(MathF.Max(x, y), z),
                MergeMode.Minimum => MathF.Min(MathF.Min(x, y), z),
                _ => (x + y + z) / 3f, // Keras sums in input order, then divides
            };
            Assert.Equal(expected, output[i]);
        }
    }

    [Fact]
    public void SubtractTakesExactlyTwoInputs()
    {
        var (_, a, b, c) = Branches();
        var e = Assert.Throws<LayerException>(() => new Subtract("minus").Call(a, b, c));
        Assert.Contains("minus", e.Message);
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void MaximumAndMinimumPropagateANaNFromEitherSideAtEveryWidth(SimdWidth width)
    {
        var left = new float[37];
        var right = new float[37];
        for (int i = 0; i < left.Length; i++) { left[i] = i - 18; right[i] = 18 - i; }
        left[3] = float.NaN;
        right[20] = float.NaN;
        right[36] = float.NaN;
        var max = new float[37];
        var min = new float[37];
        ElementwiseKernels.Maximum(left, right, max, width);
        ElementwiseKernels.Minimum(left, right, min, width);
        for (int i = 0; i < left.Length; i++)
        {
            Assert.Equal(MathF.Max(left[i], right[i]), max[i]);
            Assert.Equal(MathF.Min(left[i], right[i]), min[i]);
        }
        Assert.True(float.IsNaN(max[3]) && float.IsNaN(min[20]) && float.IsNaN(max[36]));
    }

    [Fact]
    public void NearestUpSamplingRepeatsEachPixelOverItsBlock()
    {
        var (input, a, _, _) = Branches();
        var up = new UpSampling2D("up", (2, 3)).Call(a);
        Assert.Equal(TensorShape.Nhwc(1, 2 * Height, 3 * Width, Channels), up.OutputShape);
        var (output, v) = Run(input, up, "a");
        for (int n = 0; n < 2; n++)
        for (int h = 0; h < 2 * Height; h++)
        for (int w = 0; w < 3 * Width; w++)
        for (int ch = 0; ch < Channels; ch++)
            Assert.Equal(v["a"][((n * Height + h / 2) * Width + w / 3) * Channels + ch], output[((n * 2 * Height + h) * 3 * Width + w) * Channels + ch]);
    }

    [Fact]
    public void BilinearUpSamplingGivesTensorFlowsHalfPixelValues()
    {
        // tf.image.resize([[1, 2], [3, 4]], (4, 4), 'bilinear') in TensorFlow 2 (half-pixel centres, edges clamped).
        float[] expected =
        [
            1.00f, 1.25f, 1.75f, 2.00f,
            1.50f, 1.75f, 2.25f, 2.50f,
            2.50f, 2.75f, 3.25f, 3.50f,
            3.00f, 3.25f, 3.75f, 4.00f,
        ];
        var p = new UpSampling2DParams(1, 2, 2, 1, 2, 2);
        var output = new float[16];
        ResamplingKernels.Bilinear([1f, 2f, 3f, 4f], output, in p, new BilinearAxis(2, 2), new BilinearAxis(2, 2), new RowRange(0, 4));
        Assert.Equal(expected, output);
    }

    [Theory]
    [MemberData(nameof(SimdSupport.AllWidths), MemberType = typeof(SimdSupport))]
    public void BilinearUpSamplingMatchesAFloat64ReferenceAtEveryWidth(SimdWidth width)
    {
        // 19 channels: whole vectors and an overlapping tail at every width; 3 channels: the scalar path.
        foreach (int channels in new[] { 19, 3 })
        {
            var p = new UpSampling2DParams(2, 4, 5, channels, 3, 2);
            var random = new Random(channels);
            var input = new float[2 * 4 * 5 * channels];
            for (int i = 0; i < input.Length; i++) input[i] = random.NextSingle() * 2 - 1;
            var output = new float[2 * 12 * 10 * channels];
            ResamplingKernels.Bilinear(input, output, in p, new BilinearAxis(4, 3), new BilinearAxis(5, 2), new RowRange(0, p.RowCount), width);
            for (int n = 0; n < 2; n++)
            for (int y = 0; y < 12; y++)
            for (int x = 0; x < 10; x++)
            for (int c = 0; c < channels; c++)
            {
                var (y0, y1, wy) = HalfPixel(y, 4, 12);
                var (x0, x1, wx) = HalfPixel(x, 5, 10);
                double At(int row, int column) => input[((n * 4 + row) * 5 + column) * channels + c];
                double top = At(y0, x0) + (At(y0, x1) - At(y0, x0)) * wx;
                double bottom = At(y1, x0) + (At(y1, x1) - At(y1, x0)) * wx;
                double expected = top + (bottom - top) * wy;
                double actual = output[((n * 12 + y) * 10 + x) * channels + c];
                Assert.True(Math.Abs(actual - expected) <= 1e-6, $"({n}, {y}, {x}, {c}): {actual} vs {expected}");
            }
        }
    }

    /// <summary>TensorFlow's half-pixel sample position, in float64 (the kernel computes it in float32 as TensorFlow does).</summary>
    private static (int Lower, int Upper, double Weight) HalfPixel(int output, int inputSize, int outputSize)
    {
        double position = (output + 0.5) * inputSize / outputSize - 0.5;
        double floor = Math.Floor(position);
        return (Math.Max((int)floor, 0), Math.Min((int)Math.Ceiling(position), inputSize - 1), position - floor);
    }

    [Fact]
    public void BilinearUpSamplingThroughALayerEqualsTheKernel()
    {
        var (input, a, _, _) = Branches();
        var up = new UpSampling2D("up", 2, Interpolation.Bilinear).Call(a);
        var (output, v) = Run(input, up, "a");
        var p = new UpSampling2DParams(2, Height, Width, Channels, 2, 2);
        var expected = new float[output.Length];
        ResamplingKernels.Bilinear(v["a"], expected, in p, new BilinearAxis(Height, 2), new BilinearAxis(Width, 2), new RowRange(0, p.RowCount), SimdWidth.Scalar);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void CroppingRemovesEachSide()
    {
        var (input, a, _, _) = Branches();
        var cropped = new Cropping2D("crop", new Padding2D(1, 2, 0, 3)).Call(a);
        Assert.Equal(TensorShape.Nhwc(1, Height - 3, Width - 3, Channels), cropped.OutputShape);
        var (output, v) = Run(input, cropped, "a");
        int i = 0;
        for (int n = 0; n < 2; n++)
        for (int h = 1; h < Height - 2; h++)
        for (int w = 0; w < Width - 3; w++)
        for (int ch = 0; ch < Channels; ch++)
            Assert.Equal(v["a"][((n * Height + h) * Width + w) * Channels + ch], output[i++]);
        Assert.Equal(output.Length, i);
        var e = Assert.Throws<LayerException>(() => new Cropping2D("too_much", new Padding2D(3, 2, 0, 0)).Call(a));
        Assert.Contains("too_much", e.Message);
        Assert.Contains("leaves 0 x 6", e.Message);
    }

    [Fact]
    public void KerasConfigFormsOfSizeAndCroppingAreRead()
    {
        var input = Node.Input(8, 8, 2, "in");
        var x = new UpSampling2D("up", (2, 2)).Call(input);
        x = new Cropping2D("crop", new Padding2D(1, 1, 1, 1)).Call(x);
        using var model = new Model("forms", input, x);
        string json = KerasModelConfig.ToJson(model);
        Assert.Contains("\"cropping\":[[1,1],[1,1]]", json);
        Assert.Contains("\"size\":[2,2]", json);

        string scalarForms = json.Replace("\"size\":[2,2]", "\"size\":3").Replace("\"cropping\":[[1,1],[1,1]]", "\"cropping\":[2,1]");
        using var rebuilt = KerasModelConfig.Build(scalarForms);
        Assert.Equal((3, 3), ((UpSampling2D)rebuilt.Layers.Single(l => l.Name == "up")).Size);
        Assert.Equal(new Padding2D(2, 2, 1, 1), ((Cropping2D)rebuilt.Layers.Single(l => l.Name == "crop")).Cropping);

        var e = Assert.Throws<NotSupportedException>(() => KerasModelConfig.Build(json.Replace("\"nearest\"", "\"bicubic\"")));
        Assert.Contains("up (UpSampling2D): interpolation 'bicubic' is not supported", e.Message);
    }

    [Fact]
    public void LayerNormalizationWithoutWeightsStandardizesEachPosition()
    {
        var (input, a, _, _) = Branches();
        var normalized = new LayerNormalization("norm", epsilon: 1e-2, center: false, scale: false).Call(a);
        var (output, v) = Run(input, normalized, "a");
        for (int p = 0; p < output.Length / Channels; p++)
        {
            var x = v["a"].AsSpan(p * Channels, Channels).ToArray().Select(f => (double)f).ToArray();
            double mean = x.Average(), variance = x.Select(e => (e - mean) * (e - mean)).Average();
            for (int c = 0; c < Channels; c++)
            {
                double expected = (x[c] - mean) / Math.Sqrt(variance + 1e-2);
                Assert.True(Math.Abs(output[p * Channels + c] - expected) <= 2e-6 * Math.Max(1, Math.Abs(expected)), $"{p}, {c}: {output[p * Channels + c]} vs {expected}");
            }
        }
        var e = Assert.Throws<LayerException>(() => new LayerNormalization("rows", axis: 1).Call(a));
        Assert.Contains("axis 1 is not the last axis", e.Message);
    }

    [ReferenceFact(ExternalReference.TensorFlowJs)]
    public void ATensorFlowJsModelOfTheseLayersMatchesLayerByLayer()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"nativecnn-merge-{Guid.NewGuid():N}");
        try
        {
            TensorFlowJsReference.Run("merge-layers-model.mjs", "--out", dir);
            using var model = KerasFile.Read(Path.Combine(dir, "model.json")).BuildModel();
            using var x = NpyFile.Read(Path.Combine(dir, "input.npy"));
            using var backend = new CpuBackend();
            using (var plan = model.CreatePlan(backend, x.Shape.Batch, fuse: false))
            {
                plan.Input.CopyFrom(x.Span);
                plan.Run();
                int compared = 0;
                foreach (var layer in model.Layers.Where(l => l is not InputLayer))
                {
                    using var expected = NpyFile.Read(Path.Combine(dir, layer.Name + ".npy"));
                    var buffer = plan.GetActivation(layer.Name);
                    Assert.Equal(expected.Shape, buffer.Shape);
                    using var actual = new Tensor(buffer.Shape);
                    buffer.CopyTo(actual.Span);
                    float scale = Math.Max(1e-3f, expected.Span.ToArray().Max(MathF.Abs));
                    Precision.AssertClose(expected.Span, actual.Span, 1e-5, scale, layer.Name);
                    compared++;
                }
                Assert.Equal(42, compared);
            }
            using var fused = model.CreatePlan(backend, x.Shape.Batch);
            fused.Input.CopyFrom(x.Span);
            fused.Run();
            using var expectedOutput = NpyFile.Read(Path.Combine(dir, "output.npy"));
            using var output = new Tensor(fused.Output.Shape);
            fused.Output.CopyTo(output.Span);
            Precision.AssertClose(expectedOutput.Span, output.Span, 1e-5, 1.0, "output");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>SeparableConv2D against a float64 depthwise-then-pointwise reference.</summary>
public sealed class SeparableConv2DTests
{
    [Theory]
    [InlineData(2, 1, 1, "same", true)]
    [InlineData(1, 2, 1, "valid", false)]
    [InlineData(3, 1, 2, "valid", true)]
    public void MatchesAFloat64DepthwiseThenPointwiseReference(int multiplier, int stride, int dilation, string padding, bool useBias)
    {
        const int height = 9, width = 8, channels = 5, filters = 7;
        var input = Node.Input(height, width, channels, "x");
        var layer = new SeparableConv2D("sep", filters, (3, 2), (stride, stride), padding == "same" ? Padding.Same : Padding.Valid,
                                        multiplier, (dilation, dilation), useBias, ActivationFunction.Swish);
        var output = layer.Call(input);
        var random = new Random(multiplier * 10 + stride);
        foreach (var weight in layer.Weights)
        {
            var span = weight.Value.Span;
            for (int i = 0; i < span.Length; i++) span[i] = random.NextSingle() * 2 - 1;
        }
        using var model = new Model("m", input, output);
        using var backend = new CpuBackend(threadCount: 2);
        using var plan = model.CreatePlan(backend, batch: 2);
        var x = new float[plan.Input.Shape.ElementCount];
        for (int i = 0; i < x.Length; i++) x[i] = random.NextSingle() * 2 - 1;
        plan.Input.CopyFrom(x);
        plan.Run();
        var actual = new float[plan.Output.Shape.ElementCount];
        plan.Output.CopyTo(actual);

        var dw = layer.GetWeight("depthwise_kernel").Value.Span.ToArray();
        var pw = layer.GetWeight("pointwise_kernel").Value.Span.ToArray();
        var bias = useBias ? layer.GetWeight("bias").Value.Span.ToArray() : new float[filters];
        var shape = output.OutputShape;
        var pads = Padding2D.Resolve(layer.Padding, height, width, 3, 2, stride, stride, dilation, dilation);
        int expanded = channels * multiplier;
        var mid = new double[expanded];
        for (int n = 0; n < 2; n++)
        for (int oy = 0; oy < shape.Height; oy++)
        for (int ox = 0; ox < shape.Width; ox++)
        {
            for (int c = 0; c < channels; c++)
            for (int m = 0; m < multiplier; m++)
            {
                double sum = 0;
                for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 2; kx++)
                {
                    int iy = oy * stride + ky * dilation - pads.Top, ix = ox * stride + kx * dilation - pads.Left;
                    if ((uint)iy >= height || (uint)ix >= width) continue;
                    sum += x[((n * height + iy) * width + ix) * channels + c] * (double)dw[((ky * 2 + kx) * channels + c) * multiplier + m];
                }
                mid[c * multiplier + m] = sum;
            }
            for (int f = 0; f < filters; f++)
            {
                double z = bias[f];
                for (int e = 0; e < expanded; e++) z += mid[e] * pw[e * filters + f];
                double expected = z / (1 + Math.Exp(-z));
                float got = actual[((n * shape.Height + oy) * shape.Width + ox) * filters + f];
                Assert.True(Math.Abs(got - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"({n}, {oy}, {ox}, {f}): {got} vs {expected}");
            }
        }
        Assert.Equal(3 * 2 * channels * multiplier + expanded * filters + (useBias ? filters : 0), layer.ParameterCount);
    }
}
