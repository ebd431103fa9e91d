using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NativeCnn.Training;

/// <summary>
/// The elementwise updates of the optimizers over spans: each is a small update struct over <see cref="Vector{T}"/>
/// that one loop applies, the last partial vector zero-padded through the same struct (no fused multiply-add
/// anywhere), so every element gets the same float32 result at every vector width and length.
/// </summary>
internal static class OptimizerKernels
{
    /// <summary><c>w = w - (w · wd) · lr</c> (base_optimizer.py <c>_apply_weight_decay</c>).</summary>
    public static void DecayWeights(Span<float> w, float wd, float lr) => Apply(new DecayUpdate(wd, lr), w, [], [], [], []);

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
        Apply(new ClipByNormUpdate(c, Math.Max(norm, c)), g, [], [], [], []);
    }

    /// <summary><c>g = g · scale</c>.</summary>
    public static void Scale(Span<float> g, float scale) => Apply(new ScaleUpdate(scale), g, [], [], [], []);

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
    public static void Sgd(Span<float> w, ReadOnlySpan<float> g, float lr) => Apply(new SgdUpdate(lr), w, g, [], [], []);

    /// <summary>
    /// Keras SGD with momentum: <c>m = m · μ - g · lr</c>, then <c>w += m · μ - g · lr</c> (Nesterov) or <c>w += m</c>.
    /// </summary>
    public static void SgdMomentum(Span<float> w, ReadOnlySpan<float> g, Span<float> m, float lr, float mu, bool nesterov)
        => Apply(new MomentumUpdate(lr, mu, nesterov), w, g, m, [], []);

    /// <summary>
    /// Keras Adam: <c>m += (g - m) · (1 - β₁)</c>, <c>v += (g² - v) · (1 - β₂)</c>, for AMSGrad <c>v̂ = max(v̂, v)</c> and
    /// <c>v = v̂</c>, then <c>w -= (m · α) / (√v + ε)</c>.
    /// </summary>
    public static void Adam(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Span<float> vHat,
                            float alpha, float oneMinusBeta1, float oneMinusBeta2, float epsilon)
        => Apply(new AdamUpdate(alpha, oneMinusBeta1, oneMinusBeta2, epsilon, Amsgrad: !vHat.IsEmpty), w, g, m, v, vHat);

    /// <summary>
    /// Keras RMSprop: <c>v = ρ v + (1 - ρ) g²</c>; centered: <c>a = ρ a + (1 - ρ) g</c> and <c>d = v - a² + ε</c>, else
    /// <c>d = v + ε</c>; <c>inc = lr · g / √d</c>; with momentum <c>mom = μ mom + inc</c>, <c>w -= mom</c>, else <c>w -= inc</c>.
    /// </summary>
    public static void RmsProp(Span<float> w, ReadOnlySpan<float> g, Span<float> velocity, Span<float> average, Span<float> momentum,
                               float lr, float rho, float oneMinusRho, float mu, float epsilon)
        => Apply(new RmsPropUpdate(lr, rho, oneMinusRho, mu, epsilon, Centered: !average.IsEmpty, UseMomentum: !momentum.IsEmpty),
                 w, g, velocity, average, momentum);

    /// <summary>
    /// One vector's update of <c>x</c> (the weights, or the gradient itself) from the gradient <c>g</c> and up to three
    /// state slots <c>a</c>, <c>b</c>, <c>c</c>; an operand the optimizer does not use is a scratch vector.
    /// </summary>
    private interface IUpdate
    {
        void Apply(ref Vector<float> x, in Vector<float> g, ref Vector<float> a, ref Vector<float> b, ref Vector<float> c);
    }

    /// <summary>
    /// Applies <paramref name="update"/> to every element: whole vectors in place, then each value of the tail broadcast
    /// through the same vector update, so the tail gets the same float32 operations as the body. An empty span is an
    /// unused operand, which the update never touches; any other must be as long as <paramref name="x"/>.
    /// </summary>
    private static void Apply<TUpdate>(TUpdate update, Span<float> x, ReadOnlySpan<float> g, Span<float> a, Span<float> b, Span<float> c)
        where TUpdate : struct, IUpdate
    {
        int n = x.Length, i = 0;
        // Unused operands refer to one scratch vector (stride 0): the updates never use it, and the tail copies it
        // in and out rather than branch per operand.
        Vector<float> scratch = default;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rg = ref Base(g, n, ref scratch, out nint sg);
        ref float ra = ref Base(a, n, ref scratch, out nint sa);
        ref float rb = ref Base(b, n, ref scratch, out nint sb);
        ref float rc = ref Base(c, n, ref scratch, out nint sc);
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            update.Apply(ref At(ref rx, i), in At(ref rg, i * sg), ref At(ref ra, i * sa), ref At(ref rb, i * sb), ref At(ref rc, i * sc));
        }
        for (; i < n; i++)
        {
            Vector<float> vx = new(Unsafe.Add(ref rx, i)), vg = new(Unsafe.Add(ref rg, i * sg)), va = new(Unsafe.Add(ref ra, i * sa)),
                          vb = new(Unsafe.Add(ref rb, i * sb)), vc = new(Unsafe.Add(ref rc, i * sc));
            update.Apply(ref vx, in vg, ref va, ref vb, ref vc);
            Unsafe.Add(ref rx, i) = vx[0];
            Unsafe.Add(ref ra, i * sa) = va[0];
            Unsafe.Add(ref rb, i * sb) = vb[0];
            Unsafe.Add(ref rc, i * sc) = vc[0];
        }
    }

    /// <summary>
    /// The first value of <paramref name="s"/> and stride 1, or the scratch vector and stride 0 when it is empty.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="s"/> is neither empty nor <paramref name="length"/> long.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Base(ReadOnlySpan<float> s, int length, ref Vector<float> scratch, out nint stride)
    {
        if (!s.IsEmpty && s.Length != length) ThrowLength(s.Length, length);
        stride = s.IsEmpty ? 0 : 1;
        return ref s.IsEmpty ? ref Unsafe.As<Vector<float>, float>(ref scratch) : ref MemoryMarshal.GetReference(s);
    }

    private static void ThrowLength(int length, int expected)
        => throw new ArgumentException($"an optimizer operand has {length} values, the weights {expected}");

    /// <summary>The vector that starts <paramref name="offset"/> values after <paramref name="first"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref Vector<float> At(ref float first, nint offset) => ref Unsafe.As<float, Vector<float>>(ref Unsafe.Add(ref first, offset));

    private readonly record struct DecayUpdate(float Wd, float Lr) : IUpdate
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> x, in Vector<float> g, ref Vector<float> a, ref Vector<float> b, ref Vector<float> c)
            => x -= x * Wd * Lr;
    }

    private readonly record struct ClipByNormUpdate(float C, float Divisor) : IUpdate
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> x, in Vector<float> g, ref Vector<float> a, ref Vector<float> b, ref Vector<float> c)
            => x = x * C / Divisor;
    }

    private readonly record struct ScaleUpdate(float Factor) : IUpdate
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> x, in Vector<float> g, ref Vector<float> a, ref Vector<float> b, ref Vector<float> c)
            => x *= Factor;
    }

    private readonly record struct SgdUpdate(float Lr) : IUpdate
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> w, in Vector<float> g, ref Vector<float> a, ref Vector<float> b, ref Vector<float> c)
            => w -= g * Lr;
    }

    /// <summary>Slot <c>a</c> is the momentum.</summary>
    private readonly record struct MomentumUpdate(float Lr, float Mu, bool Nesterov) : IUpdate
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> w, in Vector<float> g, ref Vector<float> m, ref Vector<float> b, ref Vector<float> c)
        {
            var step = g * Lr;
            var momentum = m * Mu - step;
            m = momentum;
            w += Nesterov ? momentum * Mu - step : momentum;
        }
    }

    /// <summary>Slots: <c>m</c>, <c>v</c> and, for AMSGrad, <c>v̂</c>.</summary>
    private readonly record struct AdamUpdate(float Alpha, float OneMinusBeta1, float OneMinusBeta2, float Epsilon, bool Amsgrad) : IUpdate
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> w, in Vector<float> g, ref Vector<float> m, ref Vector<float> v, ref Vector<float> vHat)
        {
            var mk = m + (g - m) * OneMinusBeta1;
            var vk = v + (g * g - v) * OneMinusBeta2;
            m = mk;
            v = vk;
            if (Amsgrad) vHat = vk = Vector.Max(vHat, vk);
            w -= mk * Alpha / (Vector.SquareRoot(vk) + new Vector<float>(Epsilon));
        }
    }

    /// <summary>Slots: the velocity, the centered average and the momentum.</summary>
    private readonly record struct RmsPropUpdate(float Lr, float Rho, float OneMinusRho, float Mu, float Epsilon,
                                                 bool Centered, bool UseMomentum) : IUpdate
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> w, in Vector<float> g, ref Vector<float> velocity, ref Vector<float> average,
                          ref Vector<float> momentum)
        {
            var vk = velocity * Rho + g * g * OneMinusRho;
            velocity = vk;
            Vector<float> denominator;
            if (Centered)
            {
                var ak = average * Rho + g * OneMinusRho;
                average = ak;
                denominator = vk - ak * ak + new Vector<float>(Epsilon);
            }
            else
            {
                denominator = vk + new Vector<float>(Epsilon);
            }
            var increment = g * Lr / Vector.SquareRoot(denominator);
            if (UseMomentum)
            {
                momentum = momentum * Mu + increment;
                w -= momentum;
            }
            else
            {
                w -= increment;
            }
        }
    }
}
