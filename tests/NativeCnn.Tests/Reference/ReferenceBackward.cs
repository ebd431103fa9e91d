namespace NativeCnn.Tests.Reference;

/// <summary>Window geometry of one reference convolution or pooling, with explicit pads (bottom/right implied by the output size).</summary>
public readonly record struct ReferenceWindow(
    int Batch, int InH, int InW, int InC, int OutH, int OutW,
    int KH, int KW, int SH, int SW, int DH, int DW, int PadTop, int PadLeft)
{
    /// <summary>A window with Keras padding ('same' from <see cref="ReferenceConvolution.Same"/>, else valid).</summary>
    public static ReferenceWindow Create(int batch, int inH, int inW, int inC, int kH, int kW, int sH, int sW, int dH, int dW, bool same)
    {
        int outH, outW, top = 0, left = 0;
        if (same)
        {
            (outH, top, _) = ReferenceConvolution.Same(inH, kH, sH, dH);
            (outW, left, _) = ReferenceConvolution.Same(inW, kW, sW, dW);
        }
        else
        {
            outH = ReferenceConvolution.OutputSize(inH, kH, sH, dH, 0, 0);
            outW = ReferenceConvolution.OutputSize(inW, kW, sW, dW, 0, 0);
        }
        return new ReferenceWindow(batch, inH, inW, inC, outH, outW, kH, kW, sH, sW, dH, dW, top, left);
    }

    /// <summary>The input row of tap <paramref name="ky"/> of output row <paramref name="y"/>.</summary>
    public int InY(int y, int ky) => y * SH + ky * DH - PadTop;

    /// <summary>The input column of tap <paramref name="kx"/> of output column <paramref name="x"/>.</summary>
    public int InX(int x, int kx) => x * SW + kx * DW - PadLeft;
}

/// <summary>
/// Naive float64 forward ops and their gradients, written from the definitions as scatters (each forward product sends
/// its share back to both factors), never the gathering loops of the kernels under test; and central finite
/// differences, which check these references themselves.
/// </summary>
internal static class ReferenceBackward
{
    /// <summary>Widens to float64.</summary>
    public static double[] D(float[] x) => Array.ConvertAll(x, v => (double)v);

    /// <summary><c>y = x·W + b</c>.</summary>
    public static double[] Dense(double[] x, double[] w, double[]? b, int batch, int features, int units)
    {
        var y = new double[batch * units];
        for (int n = 0; n < batch; n++)
            for (int u = 0; u < units; u++)
            {
                double s = b?[u] ?? 0;
                for (int i = 0; i < features; i++) s += x[n * features + i] * w[i * units + u];
                y[n * units + u] = s;
            }
        return y;
    }

    /// <summary>The gradients of <see cref="Dense"/>: <c>dX, dW, dB</c>.</summary>
    public static (double[] DX, double[] DW, double[] DB) DenseBackward(double[] x, double[] w, double[] dy, int batch, int features, int units)
    {
        var dx = new double[batch * features];
        var dw = new double[features * units];
        var db = new double[units];
        for (int n = 0; n < batch; n++)
            for (int u = 0; u < units; u++)
            {
                double g = dy[n * units + u];
                db[u] += g;
                for (int i = 0; i < features; i++)
                {
                    dx[n * features + i] += g * w[i * units + u];
                    dw[i * units + u] += g * x[n * features + i];
                }
            }
        return (dx, dw, db);
    }

    /// <summary>NHWC convolution, HWIO kernel <c>(kh, kw, inC, outC)</c>, zero padding.</summary>
    public static double[] Conv2D(double[] x, double[] w, double[]? b, in ReferenceWindow g, int outC)
    {
        var y = new double[g.Batch * g.OutH * g.OutW * outC];
        for (int n = 0; n < g.Batch; n++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int f = 0; f < outC; f++)
        {
            double s = b?[f] ?? 0;
            for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
            {
                int iy = g.InY(oy, ky), ix = g.InX(ox, kx);
                if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
                for (int c = 0; c < g.InC; c++)
                    s += x[((n * g.InH + iy) * g.InW + ix) * g.InC + c] * w[((ky * g.KW + kx) * g.InC + c) * outC + f];
            }
            y[((n * g.OutH + oy) * g.OutW + ox) * outC + f] = s;
        }
        return y;
    }

    /// <summary>The gradients of <see cref="Conv2D"/>, by scattering each product back.</summary>
    public static (double[] DX, double[] DW, double[] DB) Conv2DBackward(double[] x, double[] w, double[] dy, in ReferenceWindow g, int outC)
    {
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = new double[outC];
        for (int n = 0; n < g.Batch; n++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int f = 0; f < outC; f++)
        {
            double gy = dy[((n * g.OutH + oy) * g.OutW + ox) * outC + f];
            db[f] += gy;
            for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
            {
                int iy = g.InY(oy, ky), ix = g.InX(ox, kx);
                if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
                for (int c = 0; c < g.InC; c++)
                {
                    int xi = ((n * g.InH + iy) * g.InW + ix) * g.InC + c, wi = ((ky * g.KW + kx) * g.InC + c) * outC + f;
                    dx[xi] += gy * w[wi];
                    dw[wi] += gy * x[xi];
                }
            }
        }
        return (dx, dw, db);
    }

    /// <summary>NHWC depthwise convolution, kernel <c>(kh, kw, inC, m)</c>, output channel <c>c·m + q</c>.</summary>
    public static double[] Depthwise(double[] x, double[] w, double[]? b, in ReferenceWindow g, int m)
    {
        int outC = g.InC * m;
        var y = new double[g.Batch * g.OutH * g.OutW * outC];
        for (int n = 0; n < g.Batch; n++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int c = 0; c < g.InC; c++)
        for (int q = 0; q < m; q++)
        {
            double s = b?[c * m + q] ?? 0;
            for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
            {
                int iy = g.InY(oy, ky), ix = g.InX(ox, kx);
                if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
                s += x[((n * g.InH + iy) * g.InW + ix) * g.InC + c] * w[((ky * g.KW + kx) * g.InC + c) * m + q];
            }
            y[((n * g.OutH + oy) * g.OutW + ox) * outC + c * m + q] = s;
        }
        return y;
    }

    /// <summary>The gradients of <see cref="Depthwise"/>, by scattering each product back.</summary>
    public static (double[] DX, double[] DW, double[] DB) DepthwiseBackward(double[] x, double[] w, double[] dy, in ReferenceWindow g, int m)
    {
        int outC = g.InC * m;
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = new double[outC];
        for (int n = 0; n < g.Batch; n++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int c = 0; c < g.InC; c++)
        for (int q = 0; q < m; q++)
        {
            double gy = dy[((n * g.OutH + oy) * g.OutW + ox) * outC + c * m + q];
            db[c * m + q] += gy;
            for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
            {
                int iy = g.InY(oy, ky), ix = g.InX(ox, kx);
                if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
                int xi = ((n * g.InH + iy) * g.InW + ix) * g.InC + c, wi = ((ky * g.KW + kx) * g.InC + c) * m + q;
                dx[xi] += gy * w[wi];
                dw[wi] += gy * x[xi];
            }
        }
        return (dx, dw, db);
    }

    /// <summary>
    /// The gradient of <c>L(v) = Σ forward(v) · dy</c> with respect to <paramref name="v"/> by central differences
    /// with step <paramref name="h"/> (float64 throughout; the truncation error is O(h²) times the third derivative).
    /// </summary>
    public static double[] FiniteDifference(double[] v, double[] dy, Func<double[], double[]> forward, double h = 1e-5)
    {
        var grad = new double[v.Length];
        var probe = (double[])v.Clone();
        for (int i = 0; i < v.Length; i++)
        {
            probe[i] = v[i] + h;
            double plus = Dot(forward(probe), dy);
            probe[i] = v[i] - h;
            double minus = Dot(forward(probe), dy);
            probe[i] = v[i];
            grad[i] = (plus - minus) / (2 * h);
        }
        return grad;
    }

    /// <summary>Asserts a float64 gradient matches its finite-difference estimate to <paramref name="tolerance"/> relative to the gradient's largest value.</summary>
    public static void AssertMatchesFiniteDifference(double[] analytic, double[] numeric, string what, double tolerance = 1e-6)
    {
        Assert.Equal(numeric.Length, analytic.Length);
        double scale = Math.Max(1e-3, analytic.Max(Math.Abs));
        for (int i = 0; i < analytic.Length; i++)
            if (!(Math.Abs(analytic[i] - numeric[i]) <= tolerance * scale))
                Assert.Fail($"{what}: element {i} analytic {analytic[i]:R}, finite difference {numeric[i]:R} (scale {scale:E3})");
    }

    /// <summary><c>Σ a[i] · b[i]</c>.</summary>
    public static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}

/// <summary>Batch normalization in training mode over <c>(pixels, channels)</c> in float64, from the definitions.</summary>
internal static class ReferenceBatchNorm
{
    /// <summary>Mean and biased variance per channel.</summary>
    public static (double[] Mean, double[] Variance) Moments(double[] x, int pixels, int channels)
    {
        var mean = new double[channels];
        var variance = new double[channels];
        for (int p = 0; p < pixels; p++)
            for (int c = 0; c < channels; c++) mean[c] += x[p * channels + c] / pixels;
        for (int p = 0; p < pixels; p++)
            for (int c = 0; c < channels; c++) variance[c] += Math.Pow(x[p * channels + c] - mean[c], 2) / pixels;
        return (mean, variance);
    }

    /// <summary><c>y = γ · (x − μ) / √(σ² + ε) + β</c> with the batch's own statistics (γ, β null: 1, 0).</summary>
    public static double[] Forward(double[] x, double[]? gamma, double[]? beta, int pixels, int channels, double epsilon)
    {
        var (mean, variance) = Moments(x, pixels, channels);
        var y = new double[x.Length];
        for (int p = 0; p < pixels; p++)
            for (int c = 0; c < channels; c++)
                y[p * channels + c] = (gamma?[c] ?? 1) * (x[p * channels + c] - mean[c]) / Math.Sqrt(variance[c] + epsilon) + (beta?[c] ?? 0);
        return y;
    }

    /// <summary>dX, dγ, dβ of <see cref="Forward"/>, by the chain rule through μ and σ² written out term by term.</summary>
    public static (double[] DX, double[] DGamma, double[] DBeta) Backward(double[] x, double[]? gamma, double[] dy, int pixels, int channels, double epsilon)
    {
        var (mean, variance) = Moments(x, pixels, channels);
        var dx = new double[x.Length];
        var dGamma = new double[channels];
        var dBeta = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double inv = 1 / Math.Sqrt(variance[c] + epsilon), g = gamma?[c] ?? 1;
            double dVariance = 0, dMean = 0;
            for (int p = 0; p < pixels; p++)
            {
                int i = p * channels + c;
                double xhat = (x[i] - mean[c]) * inv;
                dBeta[c] += dy[i];
                dGamma[c] += dy[i] * xhat;
                // y depends on σ² through inv = (σ² + ε)^(-1/2), and on μ directly.
                dVariance += dy[i] * g * (x[i] - mean[c]) * -0.5 * Math.Pow(variance[c] + epsilon, -1.5);
                dMean += -dy[i] * g * inv;
            }
            // σ² = Σ(x − μ)²/P: ∂σ²/∂μ = −2Σ(x − μ)/P = 0, so only ∂σ²/∂x and ∂μ/∂x = 1/P remain.
            for (int p = 0; p < pixels; p++)
            {
                int i = p * channels + c;
                dx[i] = dy[i] * g * inv + dVariance * 2 * (x[i] - mean[c]) / pixels + dMean / pixels;
            }
        }
        return (dx, dGamma, dBeta);
    }
}

/// <summary>Pooling forward and backward in float64 over NHWC, window geometry as <see cref="ReferenceWindow"/> (dilation unused).</summary>
internal static class ReferencePooling
{
    /// <summary>The cells of window (oy, ox) in row-major order; with <paramref name="paddedZeros"/> padded cells appear as index −1.</summary>
    private static IEnumerable<(int H, int W, bool Inside)> Cells(ReferenceWindow g, int oy, int ox, bool paddedZeros)
    {
        for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
            {
                int h = oy * g.SH + ky - g.PadTop, w = ox * g.SW + kx - g.PadLeft;
                bool inside = h >= 0 && h < g.InH && w >= 0 && w < g.InW;
                if (inside || paddedZeros) yield return (h, w, inside);
            }
    }

    private static int Index(ReferenceWindow g, int n, int h, int w, int c) => ((n * g.InH + h) * g.InW + w) * g.InC + c;

    /// <summary>Max or mean of each window (mean over in-bounds cells).</summary>
    public static double[] Forward(double[] x, ReferenceWindow g, bool max, bool paddedZeros = false)
    {
        var y = new double[g.Batch * g.OutH * g.OutW * g.InC];
        for (int n = 0; n < g.Batch; n++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int c = 0; c < g.InC; c++)
        {
            var values = Cells(g, oy, ox, paddedZeros).Select(t => t.Inside ? x[Index(g, n, t.H, t.W, c)] : 0.0).ToArray();
            y[((n * g.OutH + oy) * g.OutW + ox) * g.InC + c] = max ? values.Max() : values.Average();
        }
        return y;
    }

    /// <summary>Scatters each output's gradient: to the first maximum of its window (row-major), or evenly over its in-bounds cells.</summary>
    public static double[] Backward(double[] x, double[] dy, ReferenceWindow g, bool max, bool paddedZeros = false)
    {
        var dx = new double[x.Length];
        for (int n = 0; n < g.Batch; n++)
        for (int oy = 0; oy < g.OutH; oy++)
        for (int ox = 0; ox < g.OutW; ox++)
        for (int c = 0; c < g.InC; c++)
        {
            double gy = dy[((n * g.OutH + oy) * g.OutW + ox) * g.InC + c];
            var cells = Cells(g, oy, ox, paddedZeros).ToArray();
            if (max)
            {
                int best = 0;
                double value(int i) => cells[i].Inside ? x[Index(g, n, cells[i].H, cells[i].W, c)] : 0.0;
                for (int i = 1; i < cells.Length; i++)
                    if (value(i) > value(best)) best = i;
                if (cells[best].Inside) dx[Index(g, n, cells[best].H, cells[best].W, c)] += gy;
            }
            else
            {
                foreach (var (h, w, _) in cells) dx[Index(g, n, h, w, c)] += gy / cells.Length;
            }
        }
        return dx;
    }
}
