using System.Runtime.Intrinsics;
using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Kernels;

/// <summary>Every <see cref="IActivation"/> struct at all three widths against double math, including large |x| and −0.</summary>
public class ActivationTests
{
    public static TheoryData<string> Names => ["linear", "relu", "relu6", "relu1.5", "sigmoid", "swish", "tanh"];

    [Theory]
    [MemberData(nameof(Names))]
    public void ScalarMatchesDouble(string name) => Check(name, Inputs(), EvaluateScalar);

    [Theory]
    [MemberData(nameof(Names))]
    public void Vector256MatchesDouble(string name) => Check(name, Inputs(), EvaluateVector256);

    [Vector512Theory]
    [MemberData(nameof(Names))]
    public void Vector512MatchesDouble(string name) => Check(name, Inputs(), EvaluateVector512);

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
        float atZero = EvaluateScalar(name, [0f])[0];
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
        SimdSupport.HasVector512 ? [EvaluateScalar, EvaluateVector256, EvaluateVector512] : [EvaluateScalar, EvaluateVector256];

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

    private static float[] EvaluateScalar(string name, float[] x) => name switch
    {
        "linear" => Scalar(x, new IdentityActivation()),
        "relu" => Scalar(x, new ReluActivation()),
        "relu6" => Scalar(x, new BoundedReluActivation(6f)),
        "relu1.5" => Scalar(x, new BoundedReluActivation(1.5f)),
        "sigmoid" => Scalar(x, new SigmoidActivation()),
        "swish" => Scalar(x, new SwishActivation()),
        _ => Scalar(x, new TanhActivation()),
    };

    private static float[] EvaluateVector256(string name, float[] x) => name switch
    {
        "linear" => Vector256Lanes(x, new IdentityActivation()),
        "relu" => Vector256Lanes(x, new ReluActivation()),
        "relu6" => Vector256Lanes(x, new BoundedReluActivation(6f)),
        "relu1.5" => Vector256Lanes(x, new BoundedReluActivation(1.5f)),
        "sigmoid" => Vector256Lanes(x, new SigmoidActivation()),
        "swish" => Vector256Lanes(x, new SwishActivation()),
        _ => Vector256Lanes(x, new TanhActivation()),
    };

    private static float[] EvaluateVector512(string name, float[] x) => name switch
    {
        "linear" => Vector512Lanes(x, new IdentityActivation()),
        "relu" => Vector512Lanes(x, new ReluActivation()),
        "relu6" => Vector512Lanes(x, new BoundedReluActivation(6f)),
        "relu1.5" => Vector512Lanes(x, new BoundedReluActivation(1.5f)),
        "sigmoid" => Vector512Lanes(x, new SigmoidActivation()),
        "swish" => Vector512Lanes(x, new SwishActivation()),
        _ => Vector512Lanes(x, new TanhActivation()),
    };

    private static float[] Scalar<T>(float[] x, T activation) where T : struct, IActivation
    {
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = activation.Invoke(x[i]);
        return y;
    }

    private static float[] Vector256Lanes<T>(float[] x, T activation) where T : struct, IActivation
    {
        var padded = new float[(x.Length + 7) / 8 * 8];
        x.CopyTo(padded, 0);
        var y = new float[padded.Length];
        for (int i = 0; i < padded.Length; i += 8) activation.Invoke(Vector256.Create(padded.AsSpan(i, 8))).CopyTo(y.AsSpan(i, 8));
        return y[..x.Length];
    }

    private static float[] Vector512Lanes<T>(float[] x, T activation) where T : struct, IActivation
    {
        var padded = new float[(x.Length + 15) / 16 * 16];
        x.CopyTo(padded, 0);
        var y = new float[padded.Length];
        for (int i = 0; i < padded.Length; i += 16) activation.Invoke(Vector512.Create(padded.AsSpan(i, 16))).CopyTo(y.AsSpan(i, 16));
        return y[..x.Length];
    }
}
