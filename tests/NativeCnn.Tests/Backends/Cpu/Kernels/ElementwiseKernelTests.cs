using NativeCnn.Backends.Cpu.Kernels;
using NativeCnn.Backends.Cpu.Simd;
using NativeCnn.Tests.Reference;

namespace NativeCnn.Tests.Backends.Cpu.Kernels;

/// <summary><see cref="ElementwiseKernels"/> at every SIMD width and the default one, against float64 loops.</summary>
public class ElementwiseKernelTests
{
    private static readonly SimdWidth[] s_widths = SimdSupport.AllWidthsAndAuto;
    private static readonly int[] s_lengths = [0, 1, 7, 8, 15, 16, 17, 31, 63, 64, 65, 100, 129, 1003];
    private static readonly int[] s_channels = [1, 3, 7, 8, 9, 15, 16, 17, 24, 33, 40, 70];
    private static readonly int[] s_pixels = [1, 6, 8, 11, 16, 19, 37];
    private static readonly string[] s_activations = ["linear", "relu", "relu6", "sigmoid", "swish", "tanh"];

    public static TheoryData<SimdWidth, string> WidthsAndActivations()
    {
        var data = new TheoryData<SimdWidth, string>();
        foreach (var width in s_widths) foreach (string activation in s_activations) data.Add(width, activation);
        return data;
    }

    public static TheoryData<SimdWidth> Widths() => [.. s_widths];

    [Theory]
    [MemberData(nameof(WidthsAndActivations))]
    public void ApplyMatchesReference(SimdWidth width, string activation)
    {
        foreach (int length in s_lengths)
        {
            var x = TestData.Uniform(seed: 100 + length, length, -8f, 8f);
            var expected = ReferenceElementwise.Apply(x, ReferenceElementwise.Activation(activation));
            var y = new float[length];
            Apply(width, activation, x, y);
            Precision.AssertClose(expected, y, relative: 2e-6, scale: 1e-6, what: $"{activation} length {length}");

            // In place.
            Apply(width, activation, x, x);
            Precision.AssertClose(expected, x, relative: 2e-6, scale: 1e-6, what: $"{activation} in place, length {length}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void AddAndMultiplyMatchReference(SimdWidth width)
    {
        foreach (int length in s_lengths)
        {
            var a = TestData.Uniform(seed: 200 + length, length);
            var b = TestData.Uniform(seed: 300 + length, length, -3f, 3f);
            var y = new float[length];
            Binary(width, add: true, a, b, y);
            Precision.AssertClose(ReferenceElementwise.Add(a, b), y, what: $"add length {length}");
            Binary(width, add: false, a, b, y);
            Precision.AssertClose(ReferenceElementwise.Multiply(a, b), y, what: $"multiply length {length}");

            // Output aliasing the left, then the right input.
            var left = (float[])a.Clone();
            Binary(width, add: true, left, b, left);
            Precision.AssertClose(ReferenceElementwise.Add(a, b), left, what: $"add into left, length {length}");
            var right = (float[])b.Clone();
            Binary(width, add: false, a, right, right);
            Precision.AssertClose(ReferenceElementwise.Multiply(a, b), right, what: $"multiply into right, length {length}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void MultiplyByChannelMatchesReference(SimdWidth width)
    {
        foreach (int channels in s_channels)
            foreach (int pixels in s_pixels)
            {
                var x = TestData.Uniform(seed: channels * 31 + pixels, pixels * channels);
                var s = TestData.Uniform(seed: channels * 37 + pixels, channels, 0f, 2f);
                var expected = ReferenceElementwise.ChannelAffine(x, s, null, v => v);
                var y = new float[x.Length];
                MultiplyByChannel(width, x, s, y);
                Precision.AssertClose(expected, y, what: $"{pixels}x{channels}");
                MultiplyByChannel(width, x, s, x);
                Precision.AssertClose(expected, x, what: $"{pixels}x{channels} in place");
            }
    }

    [Theory]
    [MemberData(nameof(WidthsAndActivations))]
    public void ChannelAffineMatchesReference(SimdWidth width, string activation)
    {
        foreach (int channels in s_channels)
            foreach (int pixels in s_pixels)
            {
                var x = TestData.Uniform(seed: channels * 41 + pixels, pixels * channels, -4f, 4f);
                var scale = TestData.Uniform(seed: channels * 43 + pixels, channels, -2f, 2f);
                var shift = TestData.Uniform(seed: channels * 47 + pixels, channels);
                var expected = ReferenceElementwise.ChannelAffine(x, scale, shift, ReferenceElementwise.Activation(activation));
                var y = new float[x.Length];
                ChannelAffine(width, activation, x, scale, shift, y);
                // scale 8: the product x·scale reaches 8 before the shift is added.
                Precision.AssertClose(expected, y, relative: 2e-6, scale: 8, what: $"{activation} {pixels}x{channels}");
                ChannelAffine(width, activation, x, scale, shift, x);
                Precision.AssertClose(expected, x, relative: 2e-6, scale: 8, what: $"{activation} {pixels}x{channels} in place");
            }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void SoftmaxMatchesReference(SimdWidth width)
    {
        foreach (int length in s_lengths)
        {
            if (length == 0) continue;
            var x = TestData.Uniform(seed: 400 + length, length, -10f, 10f);
            var expected = ReferenceElementwise.Softmax(x);
            var y = new float[length];
            Softmax(width, x, y);
            Precision.AssertClose(expected, y, relative: 1e-5, scale: 1e-7, what: $"length {length}");
            double sum = 0;
            foreach (float v in y) sum += v;
            Assert.Equal(1.0, sum, 1e-5);
            Softmax(width, x, x);
            Precision.AssertClose(expected, x, relative: 1e-5, scale: 1e-7, what: $"in place, length {length}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void SoftmaxIsStableForLargeLogits(SimdWidth width)
    {
        foreach (int length in new[] { 1, 5, 17, 40, 1000 })
        {
            // exp(1000) overflows float32: without subtracting the max every output would be NaN.
            var x = TestData.Uniform(seed: 500 + length, length, 900f, 1000f);
            x[length / 2] = 1000f;
            var y = new float[length];
            Softmax(width, x, y);
            Precision.AssertClose(ReferenceElementwise.Softmax(x), y, relative: 1e-5, scale: 1e-7, what: $"large, length {length}");
            for (int i = 0; i < length; i++) x[i] -= 2000f;
            Softmax(width, x, y);
            Precision.AssertClose(ReferenceElementwise.Softmax(x), y, relative: 1e-5, scale: 1e-7, what: $"very negative, length {length}");
        }
    }

    [Fact]
    public void SoftmaxOfEmptyRowDoesNothing()
    {
        foreach (var width in s_widths) ElementwiseKernels.Softmax([], [], width);
    }

    [Fact]
    public void RejectsMismatchedLengths()
    {
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.Apply(new float[5], new float[4], new ReluActivation()));
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.Add(new float[5], new float[4], new float[5]));
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.Multiply(new float[5], new float[5], new float[4]));
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.MultiplyByChannel(new float[10], new float[3], new float[10]));
        Assert.Throws<ArgumentException>(() => ElementwiseKernels.MultiplyByChannel(new float[3], [], new float[3]));
        Assert.Throws<ArgumentException>(() =>
            ElementwiseKernels.ChannelAffine(new float[9], new float[3], new float[2], new float[9], new IdentityActivation()));
    }

    [Fact]
    public void KernelsDoNotAllocate()
    {
        var x = TestData.Uniform(seed: 7, 33 * 9);
        var s = TestData.Uniform(seed: 8, 33);
        var y = new float[x.Length];
        void RunAll()
        {
            ElementwiseKernels.Apply(x, y, new SwishActivation());
            ElementwiseKernels.Add(x, y, y);
            ElementwiseKernels.Multiply(x, y, y);
            ElementwiseKernels.MultiplyByChannel(x, s, y);
            ElementwiseKernels.ChannelAffine(x, s, s, y, new TanhActivation());
            ElementwiseKernels.Softmax(x, y);
        }
        RunAll();
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunAll();
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    private static void Apply(SimdWidth width, string activation, float[] x, float[] y)
    {
        switch (activation)
        {
            case "linear": Apply(width, x, y, new IdentityActivation()); break;
            case "relu": Apply(width, x, y, new ReluActivation()); break;
            case "relu6": Apply(width, x, y, new BoundedReluActivation(6f)); break;
            case "sigmoid": Apply(width, x, y, new SigmoidActivation()); break;
            case "swish": Apply(width, x, y, new SwishActivation()); break;
            default: Apply(width, x, y, new TanhActivation()); break;
        }
    }

    private static void Apply<T>(SimdWidth width, float[] x, float[] y, T activation) where T : struct, IActivation
        => ElementwiseKernels.Apply(x, y, activation, width);

    private static void ChannelAffine(SimdWidth width, string activation, float[] x, float[] scale, float[] shift, float[] y)
    {
        switch (activation)
        {
            case "linear": ChannelAffine(width, x, scale, shift, y, new IdentityActivation()); break;
            case "relu": ChannelAffine(width, x, scale, shift, y, new ReluActivation()); break;
            case "relu6": ChannelAffine(width, x, scale, shift, y, new BoundedReluActivation(6f)); break;
            case "sigmoid": ChannelAffine(width, x, scale, shift, y, new SigmoidActivation()); break;
            case "swish": ChannelAffine(width, x, scale, shift, y, new SwishActivation()); break;
            default: ChannelAffine(width, x, scale, shift, y, new TanhActivation()); break;
        }
    }

    private static void ChannelAffine<T>(SimdWidth width, float[] x, float[] scale, float[] shift, float[] y, T activation) where T : struct, IActivation
        => ElementwiseKernels.ChannelAffine(x, scale, shift, y, activation, width);

    private static void Binary(SimdWidth width, bool add, float[] a, float[] b, float[] y)
    {
        if (add) ElementwiseKernels.Add(a, b, y, width);
        else ElementwiseKernels.Multiply(a, b, y, width);
    }

    private static void MultiplyByChannel(SimdWidth width, float[] x, float[] s, float[] y) => ElementwiseKernels.MultiplyByChannel(x, s, y, width);

    private static void Softmax(SimdWidth width, float[] x, float[] y) => ElementwiseKernels.Softmax(x, y, width);
}
