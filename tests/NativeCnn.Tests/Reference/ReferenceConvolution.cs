namespace NativeCnn.Tests.Reference;

/// <summary>Activations of the reference ops, applied in float64.</summary>
public enum ReferenceActivation
{
    Identity,
    Relu,
    Relu6,
    Swish,
}

/// <summary>Naive float64 convolutions over NHWC data: plain loops, written from the definitions, never the kernels under test.</summary>
internal static class ReferenceConvolution
{
    /// <summary>Applies <paramref name="activation"/> in float64.</summary>
    public static double Activate(ReferenceActivation activation, double x) => activation switch
    {
        ReferenceActivation.Identity => x,
        ReferenceActivation.Relu => Math.Max(x, 0.0),
        ReferenceActivation.Relu6 => Math.Min(Math.Max(x, 0.0), 6.0),
        ReferenceActivation.Swish => x / (1.0 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>Output size of one spatial dimension with explicit pads.</summary>
    public static int OutputSize(int input, int kernel, int stride, int dilation, int padBefore, int padAfter)
        => (input + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride + 1;

    /// <summary>TensorFlow 'same' padding: output <c>ceil(input / stride)</c>, the odd pad goes after (bottom/right).</summary>
    public static (int Output, int Before, int After) Same(int input, int kernel, int stride, int dilation)
    {
        int output = (input + stride - 1) / stride;
        int total = Math.Max((output - 1) * stride + dilation * (kernel - 1) + 1 - input, 0);
        return (output, total / 2, total - total / 2);
    }

    /// <summary>
    /// <c>out[n,y,x,f] = act(bias[f] + Σ_{ky,kx,c} in[n, y·sh + ky·dh − padTop, x·sw + kx·dw − padLeft, c] · k[ky,kx,c,f])</c>,
    /// HWIO kernel, zero outside the input.
    /// </summary>
    public static double[] Conv2D(float[] input, float[] kernel, float[]? bias, int batch, int inH, int inW, int inC,
                                  int outH, int outW, int outC, int kH, int kW, int sH, int sW, int dH, int dW,
                                  int padTop, int padLeft, ReferenceActivation activation)
    {
        var output = new double[batch * outH * outW * outC];
        for (int n = 0; n < batch; n++)
        for (int y = 0; y < outH; y++)
        for (int x = 0; x < outW; x++)
        for (int f = 0; f < outC; f++)
        {
            double sum = bias is null ? 0.0 : bias[f];
            for (int ky = 0; ky < kH; ky++)
            for (int kx = 0; kx < kW; kx++)
            {
                int iy = y * sH + ky * dH - padTop, ix = x * sW + kx * dW - padLeft;
                if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) continue;
                for (int c = 0; c < inC; c++)
                    sum += (double)input[((n * inH + iy) * inW + ix) * inC + c] * kernel[((ky * kW + kx) * inC + c) * outC + f];
            }
            output[((n * outH + y) * outW + x) * outC + f] = Activate(activation, sum);
        }
        return output;
    }

    /// <summary>
    /// <c>out[n,y,x,c·m+q] = act(bias[c·m+q] + Σ_{ky,kx} in[n, y·sh + ky·dh − padTop, x·sw + kx·dw − padLeft, c] · k[ky,kx,c,q])</c>.
    /// </summary>
    public static double[] DepthwiseConv2D(float[] input, float[] kernel, float[]? bias, int batch, int inH, int inW, int inC,
                                           int outH, int outW, int multiplier, int kH, int kW, int sH, int sW, int dH, int dW,
                                           int padTop, int padLeft, ReferenceActivation activation)
    {
        int outC = inC * multiplier;
        var output = new double[batch * outH * outW * outC];
        for (int n = 0; n < batch; n++)
        for (int y = 0; y < outH; y++)
        for (int x = 0; x < outW; x++)
        for (int c = 0; c < inC; c++)
        for (int q = 0; q < multiplier; q++)
        {
            double sum = bias is null ? 0.0 : bias[c * multiplier + q];
            for (int ky = 0; ky < kH; ky++)
            for (int kx = 0; kx < kW; kx++)
            {
                int iy = y * sH + ky * dH - padTop, ix = x * sW + kx * dW - padLeft;
                if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) continue;
                sum += (double)input[((n * inH + iy) * inW + ix) * inC + c] * kernel[((ky * kW + kx) * inC + c) * multiplier + q];
            }
            output[((n * outH + y) * outW + x) * outC + c * multiplier + q] = Activate(activation, sum);
        }
        return output;
    }

    /// <summary>
    /// Max or mean over each <c>pH × pW</c> window at <c>(y·sh − padTop, x·sw − padLeft)</c> of the cells inside the input;
    /// padded cells are ignored (TensorFlow 'same' pooling), so the mean divides by the in-bounds count.
    /// </summary>
    public static double[] Pool2D(float[] input, int batch, int inH, int inW, int channels, int outH, int outW,
                                  int pH, int pW, int sH, int sW, int padTop, int padLeft, bool max)
    {
        var output = new double[batch * outH * outW * channels];
        for (int n = 0; n < batch; n++)
        for (int y = 0; y < outH; y++)
        for (int x = 0; x < outW; x++)
        for (int c = 0; c < channels; c++)
        {
            double acc = max ? double.NegativeInfinity : 0.0;
            int cells = 0;
            for (int py = 0; py < pH; py++)
            for (int px = 0; px < pW; px++)
            {
                int iy = y * sH + py - padTop, ix = x * sW + px - padLeft;
                if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) continue;
                double v = input[((n * inH + iy) * inW + ix) * channels + c];
                acc = max ? Math.Max(acc, v) : acc + v;
                cells++;
            }
            output[((n * outH + y) * outW + x) * channels + c] = max ? acc : acc / cells;
        }
        return output;
    }
}
