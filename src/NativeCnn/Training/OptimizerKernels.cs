using System.Numerics;
using System.Runtime.InteropServices;

namespace NativeCnn.Training;

/// <summary>
/// The elementwise update loops of the optimizers over spans, width-generic with <see cref="Vector{T}"/> and one
/// scalar tail that performs the same operations in the same order (no fused multiply-add anywhere), so every element
/// gets the same float32 result at every vector width.
/// </summary>
internal static class OptimizerKernels
{
    /// <summary><c>w = w - (w · wd) · lr</c> (base_optimizer.py <c>_apply_weight_decay</c>).</summary>
    public static void DecayWeights(Span<float> w, float wd, float lr)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vw = MemoryMarshal.Cast<float, Vector<float>>(w);
            for (int k = 0; k < vw.Length; k++) vw[k] -= vw[k] * wd * lr;
            i = vw.Length * Vector<float>.Count;
        }
        for (; i < w.Length; i++) w[i] -= w[i] * wd * lr;
    }

    /// <summary>The sum of squares, accumulated in float64.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        double sum = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            var accumulator = Vector<double>.Zero;
            for (int k = 0; k < vx.Length; k++)
            {
                Vector.Widen(vx[k], out var low, out var high);
                accumulator += low * low + high * high;
            }
            sum = Vector.Sum(accumulator);
            i = vx.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++) sum += (double)x[i] * x[i];
        return sum;
    }

    /// <summary>Keras <c>_clip_by_norm</c>: <c>g = (g · c) / max(‖g‖, c)</c>; a zero gradient stays zero.</summary>
    public static void ClipByNorm(Span<float> g, float c)
    {
        float norm = (float)Math.Sqrt(SumOfSquares(g));
        float divisor = Math.Max(norm, c);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
            for (int k = 0; k < vg.Length; k++) vg[k] = vg[k] * c / divisor;
            i = vg.Length * Vector<float>.Count;
        }
        for (; i < g.Length; i++) g[i] = g[i] * c / divisor;
    }

    /// <summary><c>g = g · scale</c>.</summary>
    public static void Scale(Span<float> g, float scale)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
            for (int k = 0; k < vg.Length; k++) vg[k] *= scale;
            i = vg.Length * Vector<float>.Count;
        }
        for (; i < g.Length; i++) g[i] *= scale;
    }

    /// <summary><c>g = clip(g, low, high)</c>; NaN stays NaN.</summary>
    public static void Clip(Span<float> g, float low, float high)
    {
        for (int i = 0; i < g.Length; i++)
        {
            float x = g[i];
            if (x < low) g[i] = low;
            else if (x > high) g[i] = high;
        }
    }

    /// <summary>Plain SGD: <c>w = w - g · lr</c>.</summary>
    public static void Sgd(Span<float> w, ReadOnlySpan<float> g, float lr)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vw = MemoryMarshal.Cast<float, Vector<float>>(w);
            var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
            for (int k = 0; k < vw.Length; k++) vw[k] -= vg[k] * lr;
            i = vw.Length * Vector<float>.Count;
        }
        for (; i < w.Length; i++) w[i] -= g[i] * lr;
    }

    /// <summary>
    /// Keras SGD with momentum: <c>m = m · μ - g · lr</c>, then <c>w += m · μ - g · lr</c> (Nesterov) or <c>w += m</c>.
    /// </summary>
    public static void SgdMomentum(Span<float> w, ReadOnlySpan<float> g, Span<float> m, float lr, float mu, bool nesterov)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vw = MemoryMarshal.Cast<float, Vector<float>>(w);
            var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
            var vm = MemoryMarshal.Cast<float, Vector<float>>(m);
            for (int k = 0; k < vw.Length; k++)
            {
                var step = vg[k] * lr;
                var momentum = vm[k] * mu - step;
                vm[k] = momentum;
                vw[k] += nesterov ? momentum * mu - step : momentum;
            }
            i = vw.Length * Vector<float>.Count;
        }
        for (; i < w.Length; i++)
        {
            float step = g[i] * lr;
            float momentum = m[i] * mu - step;
            m[i] = momentum;
            w[i] += nesterov ? momentum * mu - step : momentum;
        }
    }

    /// <summary>
    /// Keras Adam: <c>m += (g - m) · (1 - β₁)</c>, <c>v += (g² - v) · (1 - β₂)</c>, for AMSGrad <c>v̂ = max(v̂, v)</c> and
    /// <c>v = v̂</c>, then <c>w -= (m · α) / (√v + ε)</c>.
    /// </summary>
    public static void Adam(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Span<float> vHat,
                            float alpha, float oneMinusBeta1, float oneMinusBeta2, float epsilon)
    {
        bool amsgrad = !vHat.IsEmpty;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vw = MemoryMarshal.Cast<float, Vector<float>>(w);
            var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
            var vm = MemoryMarshal.Cast<float, Vector<float>>(m);
            var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
            var vh = MemoryMarshal.Cast<float, Vector<float>>(vHat);
            for (int k = 0; k < vw.Length; k++)
            {
                var gk = vg[k];
                var mk = vm[k] + (gk - vm[k]) * oneMinusBeta1;
                var vk = vv[k] + (gk * gk - vv[k]) * oneMinusBeta2;
                vm[k] = mk;
                vv[k] = vk;
                if (amsgrad) vh[k] = vk = Vector.Max(vh[k], vk);
                vw[k] -= mk * alpha / (Vector.SquareRoot(vk) + new Vector<float>(epsilon));
            }
            i = vw.Length * Vector<float>.Count;
        }
        for (; i < w.Length; i++)
        {
            float gi = g[i];
            float mi = m[i] + (gi - m[i]) * oneMinusBeta1;
            float vi = v[i] + (gi * gi - v[i]) * oneMinusBeta2;
            m[i] = mi;
            v[i] = vi;
            if (amsgrad) vHat[i] = vi = Math.Max(vHat[i], vi);
            w[i] -= mi * alpha / (MathF.Sqrt(vi) + epsilon);
        }
    }

    /// <summary>
    /// Keras RMSprop: <c>v = ρ v + (1 - ρ) g²</c>; centered: <c>a = ρ a + (1 - ρ) g</c> and <c>d = v - a² + ε</c>, else
    /// <c>d = v + ε</c>; <c>inc = lr · g / √d</c>; with momentum <c>mom = μ mom + inc</c>, <c>w -= mom</c>, else <c>w -= inc</c>.
    /// </summary>
    public static void RmsProp(Span<float> w, ReadOnlySpan<float> g, Span<float> velocity, Span<float> average, Span<float> momentum,
                               float lr, float rho, float oneMinusRho, float mu, float epsilon)
    {
        bool centered = !average.IsEmpty, useMomentum = !momentum.IsEmpty;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vw = MemoryMarshal.Cast<float, Vector<float>>(w);
            var vg = MemoryMarshal.Cast<float, Vector<float>>(g);
            var vv = MemoryMarshal.Cast<float, Vector<float>>(velocity);
            var va = MemoryMarshal.Cast<float, Vector<float>>(average);
            var vmom = MemoryMarshal.Cast<float, Vector<float>>(momentum);
            var eps = new Vector<float>(epsilon);
            for (int k = 0; k < vw.Length; k++)
            {
                var gk = vg[k];
                var vk = vv[k] * rho + gk * gk * oneMinusRho;
                vv[k] = vk;
                Vector<float> denominator;
                if (centered)
                {
                    var ak = va[k] * rho + gk * oneMinusRho;
                    va[k] = ak;
                    denominator = vk - ak * ak + eps;
                }
                else
                {
                    denominator = vk + eps;
                }
                var increment = gk * lr / Vector.SquareRoot(denominator);
                if (useMomentum)
                {
                    var mk = vmom[k] * mu + increment;
                    vmom[k] = mk;
                    vw[k] -= mk;
                }
                else
                {
                    vw[k] -= increment;
                }
            }
            i = vw.Length * Vector<float>.Count;
        }
        for (; i < w.Length; i++)
        {
            float gi = g[i];
            float vi = velocity[i] * rho + gi * gi * oneMinusRho;
            velocity[i] = vi;
            float denominator;
            if (centered)
            {
                float ai = average[i] * rho + gi * oneMinusRho;
                average[i] = ai;
                denominator = vi - ai * ai + epsilon;
            }
            else
            {
                denominator = vi + epsilon;
            }
            float increment = gi * lr / MathF.Sqrt(denominator);
            if (useMomentum)
            {
                float mi = momentum[i] * mu + increment;
                momentum[i] = mi;
                w[i] -= mi;
            }
            else
            {
                w[i] -= increment;
            }
        }
    }
}
