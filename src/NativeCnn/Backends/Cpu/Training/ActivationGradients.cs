namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// Derivatives of the activations, as TensorFlow's gradients define them at the kinks: ReLU passes the gradient only
/// where <c>0 &lt; x</c> (and <c>x &lt; cap</c>), the clamps of hard sigmoid and hard swish only strictly inside.
/// </summary>
internal static class ActivationGradients
{
    // Keras's SELU constants.
    private const float SeluScale = 1.05070098f, SeluAlpha = 1.67326324f;

    /// <summary>
    /// <c>dx (+)= act'(x) · dy</c> element-wise, from the pre-activation <paramref name="x"/> and the output
    /// <paramref name="y"/> (whichever the derivative reads); softmax works on rows of <paramref name="rowLength"/> values:
    /// <c>dx = y · (dy − Σ dy·y)</c>.
    /// </summary>
    public static void Backward(ActivationFunction activation, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy,
                                Span<float> dx, int rowLength, bool accumulate)
    {
        int n = dy.Length;
        if (x.Length < n || y.Length < n || dx.Length < n) throw new ArgumentException($"activation gradient: spans shorter than {n} values");
        if (activation.Kind == ActivationKind.Softmax)
        {
            if (rowLength < 1 || n % rowLength != 0) throw new ArgumentException($"softmax gradient: {n} values are not rows of {rowLength}");
            for (int start = 0; start < n; start += rowLength)
            {
                var yRow = y.Slice(start, rowLength);
                var dyRow = dy.Slice(start, rowLength);
                var dxRow = dx.Slice(start, rowLength);
                double dot = 0;
                for (int i = 0; i < rowLength; i++) dot += (double)dyRow[i] * yRow[i];
                for (int i = 0; i < rowLength; i++)
                {
                    float g = yRow[i] * (dyRow[i] - (float)dot);
                    dxRow[i] = accumulate ? dxRow[i] + g : g;
                }
            }
            return;
        }
        float cap = activation.MaxValue, alpha = activation.Alpha;
        for (int i = 0; i < n; i++)
        {
            float v = x[i], derivative = activation.Kind switch
            {
                ActivationKind.Linear => 1f,
                ActivationKind.Relu => v > 0 && v < cap ? 1f : 0f,
                ActivationKind.Sigmoid => y[i] * (1 - y[i]),
                ActivationKind.Swish => SwishDerivative(v),
                ActivationKind.Tanh => 1 - y[i] * y[i],
                ActivationKind.HardSigmoid => alpha == ActivationFunction.Keras2HardSigmoidSlope
                    ? (v > -2.5f && v < 2.5f ? 0.2f : 0f)
                    : (v > -3f && v < 3f ? 1f / 6f : 0f),
                ActivationKind.HardSwish => v <= -3f ? 0f : v >= 3f ? 1f : (2 * v + 3) / 6f,
                ActivationKind.LeakyRelu => v > 0 ? 1f : alpha,
                ActivationKind.Elu => v > 0 ? 1f : alpha * MathF.Exp(v),
                ActivationKind.Selu => v > 0 ? SeluScale : SeluScale * SeluAlpha * MathF.Exp(v),
                ActivationKind.Gelu => GeluDerivative(v),
                ActivationKind.Softplus => 1f / (1f + MathF.Exp(-v)),
                _ => throw new NotSupportedException($"no gradient for activation {activation.Kind}"),
            };
            float g = derivative * dy[i];
            dx[i] = accumulate ? dx[i] + g : g;
        }
    }

    private static float SwishDerivative(float x)
    {
        float s = 1f / (1f + MathF.Exp(-x));
        return s * (1 + x * (1 - s));
    }

    // d/dx [x·Φ(x)] = Φ(x) + x·φ(x), in double: erf has no float overload.
    private static float GeluDerivative(float x)
    {
        double v = x, cdf = 0.5 * (1 + Erf(v / Math.Sqrt(2))), pdf = Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI);
        return (float)(cdf + v * pdf);
    }

    // Numerical Recipes' erfc fit (fractional error below 1.2e-7 everywhere): finer than float32 needs for a derivative.
    private static double Erf(double x)
    {
        double z = Math.Abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                   + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - r : r - 1;
    }
}
