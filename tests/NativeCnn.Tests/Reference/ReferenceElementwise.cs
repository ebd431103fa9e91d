namespace NativeCnn.Tests.Reference;

/// <summary>
/// Naive float64 references for the element-wise, pooling, dense and squeeze-and-excitation kernels: plain loops,
/// written from the Keras/TensorFlow definitions and sharing no code with the kernels under test.
/// </summary>
internal static class ReferenceElementwise
{
    /// <summary>The activations as double functions, by Keras name.</summary>
    public static Func<double, double> Activation(string name, double maxValue = 6.0) => name switch
    {
        "linear" => x => x,
        "relu" => x => x < 0 ? 0 : x,
        "relu6" => x => x < 0 ? 0 : x > maxValue ? maxValue : x,
        "sigmoid" => Sigmoid,
        "swish" => x => x * Sigmoid(x),
        "tanh" => Math.Tanh,
        _ => throw new ArgumentException($"unknown activation {name}", nameof(name)),
    };

    /// <summary><c>1 / (1 + exp(−x))</c>, written so that it never overflows.</summary>
    public static double Sigmoid(double x) => x >= 0 ? 1.0 / (1.0 + Math.Exp(-x)) : Math.Exp(x) / (1.0 + Math.Exp(x));

    public static double[] Apply(float[] input, Func<double, double> activation)
    {
        var y = new double[input.Length];
        for (int i = 0; i < y.Length; i++) y[i] = activation(input[i]);
        return y;
    }

    public static double[] Add(float[] left, float[] right)
    {
        var y = new double[left.Length];
        for (int i = 0; i < y.Length; i++) y[i] = (double)left[i] + right[i];
        return y;
    }

    public static double[] Multiply(float[] left, float[] right)
    {
        var y = new double[left.Length];
        for (int i = 0; i < y.Length; i++) y[i] = (double)left[i] * right[i];
        return y;
    }

    public static double[] ChannelAffine(float[] input, float[] scale, float[]? shift, Func<double, double> activation)
    {
        int channels = scale.Length;
        var y = new double[input.Length];
        for (int p = 0; p < input.Length / channels; p++)
            for (int c = 0; c < channels; c++)
                y[p * channels + c] = activation((double)input[p * channels + c] * scale[c] + (shift is null ? 0.0 : shift[c]));
        return y;
    }

    public static double[] Softmax(float[] input)
    {
        double max = double.NegativeInfinity;
        foreach (float x in input) max = Math.Max(max, x);
        var y = new double[input.Length];
        double sum = 0;
        for (int i = 0; i < y.Length; i++) sum += y[i] = Math.Exp(input[i] - max);
        for (int i = 0; i < y.Length; i++) y[i] /= sum;
        return y;
    }

    /// <summary>Keras output size and leading pad of one spatial axis for 'valid' or 'same' pooling.</summary>
    public static (int Output, int PadBefore) Window(int input, int pool, int stride, bool same)
    {
        if (!same) return ((input - pool) / stride + 1, 0);
        int output = (input + stride - 1) / stride;
        int total = Math.Max((output - 1) * stride + pool - input, 0);
        return (output, total / 2);
    }

    /// <summary>NHWC max or average pooling over in-bounds cells only, as TensorFlow does.</summary>
    public static double[] Pool(float[] input, int batch, int height, int width, int channels, int pool, int stride, bool same, bool max)
    {
        var (outH, top) = Window(height, pool, stride, same);
        var (outW, left) = Window(width, pool, stride, same);
        var y = new double[batch * outH * outW * channels];
        for (int n = 0; n < batch; n++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                    for (int c = 0; c < channels; c++)
                    {
                        double acc = max ? double.NegativeInfinity : 0;
                        int count = 0;
                        for (int kh = 0; kh < pool; kh++)
                            for (int kw = 0; kw < pool; kw++)
                            {
                                int h = oh * stride - top + kh, w = ow * stride - left + kw;
                                if (h < 0 || h >= height || w < 0 || w >= width) continue;
                                double v = input[((n * height + h) * width + w) * channels + c];
                                acc = max ? Math.Max(acc, v) : acc + v;
                                count++;
                            }
                        y[((n * outH + oh) * outW + ow) * channels + c] = max ? acc : acc / count;
                    }
        return y;
    }

    public static double[] ZeroPad(float[] input, int batch, int height, int width, int channels, int top, int bottom, int left, int right)
    {
        int outH = height + top + bottom, outW = width + left + right;
        var y = new double[batch * outH * outW * channels];
        for (int n = 0; n < batch; n++)
            for (int h = 0; h < height; h++)
                for (int w = 0; w < width; w++)
                    for (int c = 0; c < channels; c++)
                        y[((n * outH + h + top) * outW + w + left) * channels + c] = input[((n * height + h) * width + w) * channels + c];
        return y;
    }

    public static double[] GlobalPool(float[] input, int pixels, int channels, bool max)
    {
        var y = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double acc = max ? double.NegativeInfinity : 0;
            for (int p = 0; p < pixels; p++) acc = max ? Math.Max(acc, input[p * channels + c]) : acc + input[p * channels + c];
            y[c] = max ? acc : acc / pixels;
        }
        return y;
    }

    public static double[] Dense(double[] input, int batch, int features, float[] kernel, float[]? bias, int units, Func<double, double> activation)
    {
        var y = new double[batch * units];
        for (int n = 0; n < batch; n++)
            for (int u = 0; u < units; u++)
            {
                double acc = bias is null ? 0 : bias[u];
                for (int i = 0; i < features; i++) acc += input[n * features + i] * kernel[i * units + u];
                y[n * units + u] = activation(acc);
            }
        return y;
    }

    public static double[] SqueezeExcitation(float[] input, int pixels, int channels, int reduced, float[] reduceKernel, float[] reduceBias,
                                             float[] expandKernel, float[] expandBias, Func<double, double> reduceActivation)
    {
        var squeezed = GlobalPool(input, pixels, channels, max: false);
        var r = Dense(squeezed, 1, channels, reduceKernel, reduceBias, reduced, reduceActivation);
        var e = Dense(r, 1, reduced, expandKernel, expandBias, channels, Sigmoid);
        var y = new double[input.Length];
        for (int p = 0; p < pixels; p++)
            for (int c = 0; c < channels; c++) y[p * channels + c] = input[p * channels + c] * e[c];
        return y;
    }

    public static double[] ToDouble(float[] values)
    {
        var y = new double[values.Length];
        for (int i = 0; i < y.Length; i++) y[i] = values[i];
        return y;
    }
}
