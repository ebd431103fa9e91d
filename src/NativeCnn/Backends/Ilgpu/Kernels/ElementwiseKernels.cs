using ILGPU;

namespace NativeCnn.Backends.Ilgpu.Kernels;

/// <summary>The sizes of an element-wise launch, one kernel argument.</summary>
internal struct ElementwiseParams
{
    /// <summary>Values written.</summary>
    public int Count;
    /// <summary>The length of the innermost axis (channels) of the output, at least 1.</summary>
    public int Channels;
    /// <summary>Multiply: 0 for equal shapes, else the values of one image, whose channels the second input scales.</summary>
    public int ImageLength;
    /// <summary>Merge: 0 subtract, 1 maximum, 2 minimum, 3 add (the average's sum), 4 scale by <see cref="Scale"/>.</summary>
    public int Mode;
    public float Scale;
    public float ActivationParameter;
}

/// <summary>One thread per output value; launch 1-D over <see cref="ElementwiseParams.Count"/>, rounded up to the group.</summary>
internal static class ElementwiseKernels
{
    public static void Activation<TActivation>(ArrayView<float> input, ArrayView<float> output, ElementwiseParams p)
        where TActivation : struct, IKernelActivation
    {
        int i = Grid.GlobalIndex.X;
        if (i < p.Count) output[i] = default(TActivation).Apply(input[i], p.ActivationParameter);
    }

    /// <summary><c>act(input · scale[c] + shift[c])</c>: inference BatchNormalization, Rescaling, Normalization.</summary>
    public static void ChannelAffine<TActivation>(ArrayView<float> input, ArrayView<float> scale, ArrayView<float> shift,
        ArrayView<float> output, ElementwiseParams p) where TActivation : struct, IKernelActivation
    {
        int i = Grid.GlobalIndex.X;
        if (i >= p.Count) return;
        int c = i % p.Channels;
        output[i] = default(TActivation).Apply(input[i] * scale[c] + shift[c], p.ActivationParameter);
    }

    public static void Add(ArrayView<float> left, ArrayView<float> right, ArrayView<float> output, ElementwiseParams p)
    {
        int i = Grid.GlobalIndex.X;
        if (i < p.Count) output[i] = left[i] + right[i];
    }

    /// <summary>Equal shapes, or <c>(N, H, W, C) · (N, 1, 1, C)</c> when <see cref="ElementwiseParams.ImageLength"/> is set.</summary>
    public static void Multiply(ArrayView<float> left, ArrayView<float> right, ArrayView<float> output, ElementwiseParams p)
    {
        int i = Grid.GlobalIndex.X;
        if (i >= p.Count) return;
        int j = p.ImageLength == 0 ? i : i / p.ImageLength * p.Channels + i % p.Channels;
        output[i] = left[i] * right[j];
    }

    /// <summary>
    /// One step of a merge folded input by input (<c>output = left ∘ right</c>), so n inputs take n − 1 launches; the average
    /// ends with a scale launch, summing in input order and then dividing, as Keras does. NaN propagates through max/min.
    /// </summary>
    public static void Merge(ArrayView<float> left, ArrayView<float> right, ArrayView<float> output, ElementwiseParams p)
    {
        int i = Grid.GlobalIndex.X;
        if (i >= p.Count) return;
        float a = left[i], b = right[i];
        float v;
        if (p.Mode == 0) v = a - b;
        else if (p.Mode == 1) v = float.IsNaN(a) || float.IsNaN(b) ? float.NaN : (a > b ? a : b);
        else if (p.Mode == 2) v = float.IsNaN(a) || float.IsNaN(b) ? float.NaN : (a < b ? a : b);
        else if (p.Mode == 3) v = a + b;
        else v = a / p.Scale;
        output[i] = v;
    }

    public static void Copy(ArrayView<float> input, ArrayView<float> output, ElementwiseParams p)
    {
        int i = Grid.GlobalIndex.X;
        if (i < p.Count) output[i] = input[i];
    }

    /// <summary>PReLU: <c>x</c> for <c>x ≥ 0</c>, else <c>alpha · x</c>; alpha is pre-broadcast to one sample.</summary>
    public static void PRelu(ArrayView<float> input, ArrayView<float> alpha, ArrayView<float> output, ElementwiseParams p)
    {
        int i = Grid.GlobalIndex.X;
        if (i >= p.Count) return;
        float x = input[i];
        output[i] = x < 0f ? alpha[i % p.ImageLength] * x : x;
    }
}
