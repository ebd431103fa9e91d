using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Layers;
using NativeCnn.Tensors;
using NativeCnn.Tests.Backends.Cpu.Kernels;
using Xunit.Abstractions;

namespace NativeCnn.Tests.Backends.Cpu.Training;

/// <summary>
/// The CPU training ops of SeparableConv2D, Conv2DTranspose, UpSampling2D, LayerNormalization, PReLU, Permute and the
/// Subtract/Maximum/Minimum/Average merges, each against a naive float64 forward written here from Keras's definition:
/// the forward output against it, and the input and weight gradients of <c>L = Σ dY · f(X, W)</c> against its central
/// finite differences in float64. Gradient buffers start non-zero, so each check also shows that gradients are added;
/// a second round with new weights in the same tensors shows that weights are read live.
/// </summary>
public sealed class LayerTrainingOpTests(ITestOutputHelper output)
{
    private const float Prefill = 0.25f;

    private delegate double[] Reference(double[][] inputs, double[][] weights);

    private static int At(TensorShape s, int n, int y, int x, int c) => ((n * s.Height + y) * s.Width + x) * s.Channels + c;

    private static double Tanh(double v) => Math.Tanh(v);

    private static double Swish(double v) => v / (1 + Math.Exp(-v));

    /// <summary>
    /// Builds <paramref name="layer"/> on inputs of <paramref name="shapes"/>, prepares its training op and checks two rounds
    /// of forward and backward against <paramref name="reference"/>; returns the worst relative error of the gradients.
    /// </summary>
    private double Check(string what, Layer layer, TensorShape[] shapes, Reference reference, int seed, double tolerance = 2e-5)
    {
        var nodes = shapes.Select((s, i) => Node.Input(s.WithBatch(1), $"input{i}")).ToArray();
        layer.Call(nodes);
        var outputShape = layer.ComputeOutputShape(shapes);
        var op = layer.CreateTrainingOp(shapes);
        using var backend = new CpuBackend(2);
        Assert.True(backend.SupportsTraining(op, out string? reason), reason);
        var inputs = shapes.Select(s => new HostBuffer(s)).ToArray();
        var inputGradients = shapes.Select(s => new HostBuffer(s)).ToArray();
        var weights = layer.Weights.Select(w => w.Value).ToArray();
        var weightGradients = weights.Select(w => new Tensor(w.Shape)).ToArray();
        using var outputBuffer = new HostBuffer(outputShape);
        using var outputGradient = new HostBuffer(outputShape);
        double worst = 0;
        try
        {
            using var trainingOp = backend.PrepareTraining(op, new TrainingBinding(what, inputs, outputBuffer, inputGradients, outputGradient,
                                                                                  weights, weightGradients.Cast<Tensor?>().ToArray()));
            for (int round = 0; round < 2; round++)
            {
                int s = seed + 100 * round;
                for (int i = 0; i < inputs.Length; i++) inputs[i].CopyFrom(TestData.Uniform(s + i, (int)shapes[i].ElementCount, -1f, 1f));
                for (int w = 0; w < weights.Length; w++) TestData.Uniform(s + 10 + w, weights[w].Length, -0.8f, 0.8f).CopyTo(weights[w].Span);
                var dy = TestData.Uniform(s + 20, (int)outputShape.ElementCount, -1f, 1f);
                outputGradient.CopyFrom(dy);
                foreach (var g in inputGradients) g.Tensor.Span.Fill(Prefill);
                foreach (var g in weightGradients) g.Span.Fill(Prefill);

                trainingOp.Forward(training: true);
                // What the backend says backward does not read is poisoned for it (a plan reuses that memory), then restored.
                var reads = backend.BackwardReads(op, inputs.Length);
                var unread = inputs.Where((_, i) => !reads.Inputs[i]).Append(reads.Output ? null : outputBuffer).OfType<HostBuffer>().ToArray();
                var saved = unread.Select(b => b.Tensor.ToArray()).ToArray();
                foreach (var b in unread) b.Tensor.Span.Fill(float.NaN);
                trainingOp.Backward();
                for (int u = 0; u < unread.Length; u++) saved[u].CopyTo(unread[u].Tensor.Span);

                var x = inputs.Select(b => TestData.ReadBack(b).Select(v => (double)v).ToArray()).ToArray();
                var wv = weights.Select(t => t.ToArray().Select(v => (double)v).ToArray()).ToArray();
                var expected = reference(x, wv);
                var actual = TestData.ReadBack(outputBuffer);
                double forward = BackwardAssert.Close(expected, actual, BackwardAssert.Scale(expected), $"{what} forward", tolerance);
                for (int i = 0; i < x.Length; i++)
                    worst = Math.Max(worst, CompareGradient($"{what} d{i}", x[i], Differences(reference, x, wv, dy, x[i]), TestData.ReadBack(inputGradients[i]), tolerance));
                for (int w = 0; w < wv.Length; w++)
                    worst = Math.Max(worst, CompareGradient($"{what} d{layer.Weights[w].Name}", wv[w], Differences(reference, x, wv, dy, wv[w]), weightGradients[w].ToArray(), tolerance));
                output.WriteLine($"{what} round {round}: forward {forward:E2}, gradients {worst:E2}");
            }
        }
        finally
        {
            foreach (var b in inputs) b.Dispose();
            foreach (var b in inputGradients) b.Dispose();
            foreach (var t in weightGradients) t.Dispose();
        }
        return worst;
    }

    private static double CompareGradient(string what, double[] values, double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(values.Length, actual.Length);
        var added = actual.Select(v => v - Prefill).ToArray();
        return BackwardAssert.Close(expected, added, BackwardAssert.Scale(expected), what, tolerance);
    }

    // Central differences of L = Σ dy · f in float64, perturbing each value of `target` (one of the arrays f reads).
    private static double[] Differences(Reference f, double[][] x, double[][] w, float[] dy, double[] target)
    {
        const double h = 1e-5;
        var gradient = new double[target.Length];
        for (int i = 0; i < target.Length; i++)
        {
            double keep = target[i];
            target[i] = keep + h;
            double plus = Dot(f(x, w), dy);
            target[i] = keep - h;
            double minus = Dot(f(x, w), dy);
            target[i] = keep;
            gradient[i] = (plus - minus) / (2 * h);
        }
        return gradient;
    }

    private static double Dot(double[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    // TensorFlow's 'same' pad before the window, and the output size, of one axis of a forward window.
    private static (int Out, int Pad) Window(Padding padding, int size, int kernel, int stride, int dilation)
    {
        int span = (kernel - 1) * dilation + 1;
        if (padding == Padding.Valid) return ((size - span) / stride + 1, 0);
        int output = (size + stride - 1) / stride;
        return (output, Math.Max((output - 1) * stride + span - size, 0) / 2);
    }

    [Theory]
    [InlineData(Padding.Same, 1, 1, 1, true)]
    [InlineData(Padding.Valid, 2, 2, 1, false)]
    [InlineData(Padding.Same, 2, 3, 2, true)]
    public void SeparableConv2DMatchesItsFloat64DefinitionAndFiniteDifferences(Padding padding, int stride, int multiplier, int dilation, bool bias)
    {
        var shape = TensorShape.Nhwc(2, 7, 6, 3);
        const int kernel = 3, filters = 4;
        var (oh, ph) = Window(padding, shape.Height, kernel, stride, dilation);
        var (ow, pw) = Window(padding, shape.Width, kernel, stride, dilation);
        var layer = new SeparableConv2D("sep", filters, (kernel, kernel), (stride, stride), padding, multiplier, (dilation, dilation), bias, ActivationFunction.Tanh);
        int mid = shape.Channels * multiplier;
        double worst = Check("SeparableConv2D", layer, [shape], (x, w) =>
        {
            var o = TensorShape.Nhwc(shape.Batch, oh, ow, filters);
            var y = new double[o.ElementCount];
            var depth = new double[mid];
            for (int n = 0; n < shape.Batch; n++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        Array.Clear(depth);
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int iy = oy * stride + ky * dilation - ph, ix = ox * stride + kx * dilation - pw;
                                if (iy < 0 || iy >= shape.Height || ix < 0 || ix >= shape.Width) continue;
                                for (int c = 0; c < shape.Channels; c++)
                                    for (int m = 0; m < multiplier; m++)
                                        depth[c * multiplier + m] += x[0][At(shape, n, iy, ix, c)] * w[0][((ky * kernel + kx) * shape.Channels + c) * multiplier + m];
                            }
                        for (int f = 0; f < filters; f++)
                        {
                            double z = bias ? w[2][f] : 0;
                            for (int j = 0; j < mid; j++) z += depth[j] * w[1][j * filters + f];
                            y[At(o, n, oy, ox, f)] = Tanh(z);
                        }
                    }
            return y;
        }, seed: 10 + stride + multiplier);
        Assert.True(worst < 2e-5);
    }

    [Theory]
    [InlineData(Padding.Same, 2, 3, true)]
    [InlineData(Padding.Valid, 2, 3, false)]
    [InlineData(Padding.Valid, 3, 2, true)]
    [InlineData(Padding.Same, 1, 3, true)]
    [InlineData(Padding.Same, 2, 4, true)]
    public void Conv2DTransposeMatchesItsFloat64DefinitionAndFiniteDifferences(Padding padding, int stride, int kernel, bool bias)
    {
        var shape = TensorShape.Nhwc(2, 4, 3, 3);
        const int filters = 2;
        var layer = new Conv2DTranspose("deconv", filters, kernel, stride, padding, bias, ActivationFunction.Swish);
        // Keras's output length ('valid': in·s + max(k − s, 0); 'same': in·s) and TensorFlow's pad for it.
        int Out(int size) => padding == Padding.Valid ? size * stride + Math.Max(kernel - stride, 0) : size * stride;
        int Pad(int size) => padding == Padding.Valid ? 0 : Math.Max((size - 1) * stride + kernel - Out(size), 0) / 2;
        var o = TensorShape.Nhwc(shape.Batch, Out(shape.Height), Out(shape.Width), filters);
        int pt = Pad(shape.Height), pl = Pad(shape.Width);
        double worst = Check("Conv2DTranspose", layer, [shape], (x, w) =>
        {
            var z = new double[o.ElementCount];
            for (int n = 0; n < o.Batch; n++)
                for (int i = 0; i < o.Height; i++)
                    for (int j = 0; j < o.Width; j++)
                        for (int f = 0; f < filters; f++)
                            z[At(o, n, i, j, f)] = bias ? w[1][f] : 0;
            for (int n = 0; n < shape.Batch; n++)
                for (int iy = 0; iy < shape.Height; iy++)
                    for (int ix = 0; ix < shape.Width; ix++)
                        for (int ky = 0; ky < kernel; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int oy = iy * stride + ky - pt, ox = ix * stride + kx - pl;
                                if (oy < 0 || oy >= o.Height || ox < 0 || ox >= o.Width) continue;
                                for (int f = 0; f < filters; f++)
                                    for (int c = 0; c < shape.Channels; c++)
                                        z[At(o, n, oy, ox, f)] += x[0][At(shape, n, iy, ix, c)] * w[0][((ky * kernel + kx) * filters + f) * shape.Channels + c];
                            }
            return [.. z.Select(Swish)];
        }, seed: 30 + stride * kernel);
        Assert.True(worst < 2e-5);
    }

    [Theory]
    [InlineData(Interpolation.Nearest, 2, 3)]
    [InlineData(Interpolation.Bilinear, 2, 2)]
    [InlineData(Interpolation.Bilinear, 3, 2)]
    public void UpSampling2DMatchesItsFloat64DefinitionAndFiniteDifferences(Interpolation interpolation, int fh, int fw)
    {
        var shape = TensorShape.Nhwc(2, 4, 3, 5);
        var o = TensorShape.Nhwc(2, 4 * fh, 3 * fw, 5);
        // Half-pixel centres: output o samples (o + 0.5) / f − 0.5, the neighbours clamped to the edge (tf.image.resize).
        static (int Lo, int Hi, double W) Sample(int o, int factor, int size)
        {
            double position = (o + 0.5) / factor - 0.5, floor = Math.Floor(position);
            return (Math.Max((int)floor, 0), Math.Min((int)Math.Ceiling(position), size - 1), position - floor);
        }
        Check($"UpSampling2D {interpolation}", new UpSampling2D("up", (fh, fw), interpolation), [shape], (x, _) =>
        {
            var y = new double[o.ElementCount];
            for (int n = 0; n < o.Batch; n++)
                for (int i = 0; i < o.Height; i++)
                    for (int j = 0; j < o.Width; j++)
                        for (int c = 0; c < o.Channels; c++)
                        {
                            if (interpolation == Interpolation.Nearest)
                            {
                                y[At(o, n, i, j, c)] = x[0][At(shape, n, i / fh, j / fw, c)];
                                continue;
                            }
                            var (t, b, wy) = Sample(i, fh, shape.Height);
                            var (l, r, wx) = Sample(j, fw, shape.Width);
                            double top = x[0][At(shape, n, t, l, c)] * (1 - wx) + x[0][At(shape, n, t, r, c)] * wx;
                            double bottom = x[0][At(shape, n, b, l, c)] * (1 - wx) + x[0][At(shape, n, b, r, c)] * wx;
                            y[At(o, n, i, j, c)] = top * (1 - wy) + bottom * wy;
                        }
            return y;
        }, seed: 50 + fh);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void LayerNormalizationMatchesItsFloat64DefinitionAndFiniteDifferences(bool center, bool scale)
    {
        var shape = TensorShape.Nhwc(2, 3, 2, 7);
        const double epsilon = 1e-3;
        Check("LayerNormalization", new LayerNormalization("ln", epsilon, center, scale), [shape], (x, w) =>
        {
            int length = shape.Channels;
            var y = new double[x[0].Length];
            for (int row = 0; row < y.Length / length; row++)
            {
                var v = x[0].AsSpan(row * length, length);
                double mean = 0, variance = 0;
                foreach (double e in v) mean += e;
                mean /= length;
                foreach (double e in v) variance += (e - mean) * (e - mean);
                variance /= length;
                for (int c = 0; c < length; c++)
                {
                    double value = (v[c] - mean) / Math.Sqrt(variance + epsilon);
                    if (scale) value *= w[0][c];
                    if (center) value += w[scale ? 1 : 0][c];
                    y[row * length + c] = value;
                }
            }
            return y;
        }, seed: 70 + (center ? 1 : 0) + (scale ? 2 : 0));
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 1, 2 })]
    [InlineData(new[] { 3 })]
    public void PReluMatchesItsFloat64DefinitionAndFiniteDifferences(int[] sharedAxes)
    {
        var shape = TensorShape.Nhwc(2, 3, 4, 5);
        Check($"PReLU shared [{string.Join(", ", sharedAxes)}]", new PReLU("prelu", sharedAxes), [shape], (x, w) =>
        {
            var y = new double[x[0].Length];
            int ah = sharedAxes.Contains(1) ? 1 : shape.Height, aw = sharedAxes.Contains(2) ? 1 : shape.Width, ac = sharedAxes.Contains(3) ? 1 : shape.Channels;
            for (int n = 0; n < shape.Batch; n++)
                for (int i = 0; i < shape.Height; i++)
                    for (int j = 0; j < shape.Width; j++)
                        for (int c = 0; c < shape.Channels; c++)
                        {
                            double v = x[0][At(shape, n, i, j, c)];
                            double alpha = w[0][((ah == 1 ? 0 : i) * aw + (aw == 1 ? 0 : j)) * ac + (ac == 1 ? 0 : c)];
                            y[At(shape, n, i, j, c)] = Math.Max(v, 0) - alpha * Math.Max(-v, 0);
                        }
            return y;
        }, seed: 90 + sharedAxes.Length);
    }

    [Theory]
    [InlineData(2, 1, 3)]
    [InlineData(3, 1, 2)]
    [InlineData(2, 3, 1)]
    public void PermuteMatchesItsDefinitionAndFiniteDifferences(int a, int b, int c)
    {
        var shape = TensorShape.Nhwc(2, 3, 4, 5);
        int[] dims = [a, b, c];
        Check($"Permute ({a}, {b}, {c})", new Permute("permute", dims), [shape], (x, _) =>
        {
            int[] size = [shape.Height, shape.Width, shape.Channels];
            int[] outSize = [size[a - 1], size[b - 1], size[c - 1]];
            var y = new double[x[0].Length];
            var index = new int[3];
            for (int n = 0; n < shape.Batch; n++)
                for (int i = 0; i < outSize[0]; i++)
                    for (int j = 0; j < outSize[1]; j++)
                        for (int k = 0; k < outSize[2]; k++)
                        {
                            index[dims[0] - 1] = i;
                            index[dims[1] - 1] = j;
                            index[dims[2] - 1] = k;
                            y[((n * outSize[0] + i) * outSize[1] + j) * outSize[2] + k] = x[0][At(shape, n, index[0], index[1], index[2])];
                        }
            return y;
        }, seed: 110 + a);
    }

    public static TheoryData<string, int> Merges => new() { { "subtract", 2 }, { "maximum", 3 }, { "maximum", 2 }, { "minimum", 2 }, { "minimum", 3 }, { "average", 3 } };

    [Theory]
    [MemberData(nameof(Merges))]
    public void MergesMatchTheirDefinitionAndFiniteDifferences(string mode, int count)
    {
        var shape = TensorShape.Nhwc(2, 3, 2, 4);
        Layer layer = mode switch
        {
            "subtract" => new Subtract("merge"),
            "maximum" => new Maximum("merge"),
            "minimum" => new Minimum("merge"),
            _ => new Average("merge"),
        };
        Check($"{mode} of {count}", layer, [.. Enumerable.Repeat(shape, count)], (x, _) =>
        {
            var y = new double[x[0].Length];
            for (int i = 0; i < y.Length; i++)
            {
                double v = x[0][i];
                for (int k = 1; k < count; k++)
                    v = mode switch
                    {
                        "subtract" => v - x[k][i],
                        "maximum" => Math.Max(v, x[k][i]),
                        "minimum" => Math.Min(v, x[k][i]),
                        _ => v + x[k][i],
                    };
                y[i] = mode == "average" ? v / count : v;
            }
            return y;
        }, seed: 130 + count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TiesInMaximumAndMinimumGoToTheFirstTiedInputAsTensorFlowRoutesThem(bool maximum)
    {
        var shape = TensorShape.Nhwc(1, 1, 1, 4);
        using var backend = new CpuBackend(1);
        // Element 0: all three tie. 1: inputs 1 and 2 tie at the extremum. 2: input 0 and 2 tie. 3: no tie, input 2 wins.
        float s = maximum ? 1f : -1f;
        float[][] values = [[5, 1, 3 * s, 0], [5, 4 * s, 1, 1 * s], [5, 4 * s, 3 * s, 2 * s]];
        float[][] expected = [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]];
        var inputs = values.Select(v => new HostBuffer(Tensor.FromArray(v, shape), ownsTensor: true)).ToArray();
        var gradients = values.Select(_ => new HostBuffer(shape)).ToArray();
        using var outputBuffer = new HostBuffer(shape);
        using var outputGradient = new HostBuffer(Tensor.FromArray([1f, 1f, 1f, 1f], shape), ownsTensor: true);
        using var op = backend.PrepareTraining(new MergeOp(maximum ? MergeMode.Maximum : MergeMode.Minimum),
                                               new TrainingBinding("ties", inputs, outputBuffer, gradients, outputGradient, [], []));
        op.Forward(training: true);
        op.Backward();
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], TestData.ReadBack(gradients[i]));
        foreach (var b in inputs.Concat(gradients)) b.Dispose();
    }

    [Fact]
    public void MaxPoolingWithZeroPaddedCellsTrainsAndAverageOnesSayWhyNot()
    {
        using var backend = new CpuBackend(1);
        var max = new Pooling2DOp(PoolingMode.Max, 3, 3, 1, 1, new Padding2D(1, 1, 1, 1)) { PaddedCellsAreZeros = true };
        Assert.True(backend.SupportsTraining(max, out _));
        Assert.False(backend.SupportsTraining(max with { Mode = PoolingMode.Average }, out string? reason));
        Assert.Contains("only for max pooling", reason);
        // All inputs negative: every window that reaches the border is won by a padded zero, which takes the gradient.
        var shape = TensorShape.Nhwc(1, 3, 3, 1);
        using var input = new HostBuffer(Tensor.FromArray([-9f, -8, -7, -6, -1, -5, -4, -3, -2], shape), ownsTensor: true);
        using var gradient = new HostBuffer(shape);
        using var outputBuffer = new HostBuffer(shape);
        using var outputGradient = new HostBuffer(Tensor.FromArray(Enumerable.Repeat(1f, 9).ToArray(), shape), ownsTensor: true);
        using var op = backend.PrepareTraining(max, new TrainingBinding("pool", [input], outputBuffer, [gradient], outputGradient, [], []));
        op.Forward(training: true);
        Assert.Equal([0f, 0, 0, 0, -1, 0, 0, 0, 0], TestData.ReadBack(outputBuffer));
        op.Backward();
        // Only the centre window lies inside the image: its maximum, -1, gets its gradient.
        Assert.Equal([0f, 0, 0, 0, 1, 0, 0, 0, 0], TestData.ReadBack(gradient));
    }
}
