using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary>Every <see cref="IActivation"/> struct at all four widths against double math, including large |x| and −0.</summary>
public class ActivationTests
{
    public static TheoryData<string> Names => ["linear", "relu", "relu6", "relu1.5", "sigmoid", "swish", "tanh"];

    private static readonly SimdWidth[] s_widths = [SimdWidth.Scalar, SimdWidth.Vector128, SimdWidth.Vector256, SimdWidth.Vector512];

    public static TheoryData<string, SimdWidth> NamesAtEveryWidth()
    {
        var data = new TheoryData<string, SimdWidth>();
        foreach (string name in Names) foreach (var width in s_widths) data.Add(name, width);
        return data;
    }

    [Theory]
    [MemberData(nameof(NamesAtEveryWidth))]
    public void MatchesDouble(string name, SimdWidth width) => Check(name, Inputs(), (n, x) => Evaluate(n, x, width));

    [Theory]
    [MemberData(nameof(Names))]
    public void NoNaNAtLargeMagnitudes(string name)
    {
        float[] x = [100f, -100f, 88.8f, -88.8f, 1e4f, -1e4f, float.MaxValue, float.MinValue, 1e-30f, -1e-30f, 0f, -0f, 0.125f, -0.125f, 20f, -20f];
        foreach (var evaluate in Evaluators())
        {
            var y = evaluate(name, x);
            for (int i = 0; i < y.Length; i++) Assert.False(float.IsNaN(y[i]), $"{name}({x[i]:R}) is NaN");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void NegativeZeroActsAsZero(string name)
    {
        float atZero = Evaluate(name, [0f], SimdWidth.Scalar)[0];
        float[] x = new float[16];
        Array.Fill(x, -0f);
        foreach (var evaluate in Evaluators())
        {
            var y = evaluate(name, x);
            for (int i = 0; i < y.Length; i++)
            {
                Assert.Equal(atZero, y[i]);
                // Tanh documents that it keeps the sign of zero.
                if (name == "tanh") Assert.True(float.IsNegative(y[i]), "tanh(-0) lost its sign");
            }
        }
    }

    private static Func<string, float[], float[]>[] Evaluators() =>
        [.. s_widths.Select(width => (Func<string, float[], float[]>)((n, x) => Evaluate(n, x, width)))];

    private static float[] Inputs()
    {
        var random = TestData.Uniform(seed: 11, length: 512, min: -12f, max: 12f);
        var near = TestData.Uniform(seed: 12, length: 256, min: -0.3f, max: 0.3f);
        float[] special = [0f, 0.125f, -0.125f, 0.12499999f, -0.12500001f, 1e-7f, -1e-7f, 1e-20f, 5.9999f, 6f, 6.0001f, 1.5f,
                           40f, -40f, 87f, -87f, 88.8f, -88.8f, 100f, -100f, 1e4f, -1e4f, 3e38f, -3e38f];
        return [.. random, .. near, .. special];
    }

    private static void Check(string name, float[] x, Func<string, float[], float[]> evaluate)
    {
        var f = name == "relu1.5" ? ReferenceElementwise.Activation("relu6", 1.5) : ReferenceElementwise.Activation(name);
        var expected = ReferenceElementwise.Apply(x, f);
        // Sigmoid-like results underflow to float denormals far below 1e-6; an absolute floor of 1e-11 covers that.
        Precision.AssertClose(expected, evaluate(name, x), relative: 2e-6, scale: 1e-6, what: name);
    }

    private static float[] Evaluate(string name, float[] x, SimdWidth width) => name switch
    {
        "linear" => Apply(x, new IdentityActivation(), width),
        "relu" => Apply(x, new ReluActivation(), width),
        "relu6" => Apply(x, new BoundedReluActivation(6f), width),
        "relu1.5" => Apply(x, new BoundedReluActivation(1.5f), width),
        "sigmoid" => Apply(x, new SigmoidActivation(), width),
        "swish" => Apply(x, new SwishActivation(), width),
        _ => Apply(x, new TanhActivation(), width),
    };

    // The activation struct itself, one vector at a time (no kernel around it), at the forced width.
    private static float[] Apply<T>(float[] x, T activation, SimdWidth width) where T : struct, IActivation
    {
        int lanes = (int)width;
        var padded = new float[(x.Length + lanes - 1) / lanes * lanes];
        x.CopyTo(padded, 0);
        var y = new float[padded.Length];
        var kernel = new Vectors<T>(padded, y, activation);
        SimdDispatch.Run(width, ref kernel);
        return y[..x.Length];
    }

    private readonly ref struct Vectors<T>(ReadOnlySpan<float> x, Span<float> y, T activation) : ISimdKernel where T : struct, IActivation
    {
        private readonly ReadOnlySpan<float> _x = x;
        private readonly Span<float> _y = y;

        public void Run<TLanes, TVector>() where TLanes : struct, ILanes<TVector> where TVector : unmanaged
        {
            for (int i = 0; i < _x.Length; i += TLanes.Count)
                TLanes.Store(ref _y[i], 0, activation.Invoke<TLanes, TVector>(TLanes.Load(in _x[i], 0)));
        }
    }
}
