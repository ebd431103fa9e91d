using ILGPU;

namespace NativeCnn.Backends.Ilgpu.Kernels;

/// <summary>The sizes of a reduction launch, one kernel argument.</summary>
internal struct ReductionParams
{
    /// <summary>Rows reduced (one group each).</summary>
    public int Rows;
    /// <summary>Values per row.</summary>
    public int Length;
    /// <summary>The distance between consecutive values of a row (channels for a global pool, 1 for a softmax).</summary>
    public int Step;
    /// <summary>Global pooling: 1 for max, 0 for average.</summary>
    public int IsMax;
    public float Epsilon;
    /// <summary>Layer normalization: whether gamma and beta apply.</summary>
    public int HasScale, HasCenter;
}

/// <summary>
/// One group per row; every thread strides over the row and the partials meet in a shared-memory tree (ILGPU.Algorithms'
/// group Reduce does not build on OpenCL/PoCL: <c>work_group_reduce_add</c> is undeclared there). The group size must be
/// a power of two no larger than <see cref="MaxGroupSize"/>. Launch: grid (rows), group (size).
/// </summary>
internal static class ReductionKernels
{
    public const int MaxGroupSize = 64;

    /// <summary>Softmax over each row of <c>length</c> contiguous values (the last axis).</summary>
    public static void Softmax(ArrayView<float> input, ArrayView<float> output, ReductionParams p)
    {
        var partial = SharedMemory.Allocate<float>(MaxGroupSize);
        int row = Grid.IdxX, t = Group.IdxX, size = Group.DimX;
        int start = row * p.Length;
        float top = -float.MaxValue;
        for (int j = t; j < p.Length; j += size) top = MathF.Max(top, input[start + j]);
        top = Reduce(partial, top, isMax: true);
        float sum = 0f;
        for (int j = t; j < p.Length; j += size)
        {
            float e = MathF.Exp(input[start + j] - top);
            output[start + j] = e;
            sum += e;
        }
        sum = Reduce(partial, sum, isMax: false);
        float inverse = 1f / sum;
        for (int j = t; j < p.Length; j += size) output[start + j] *= inverse;
    }

    /// <summary>Global max or average pooling: row (n, c) reads <c>length</c> pixels <c>step</c> (= channels) apart.</summary>
    public static void GlobalPooling2D(ArrayView<float> input, ArrayView<float> output, ReductionParams p)
    {
        var partial = SharedMemory.Allocate<float>(MaxGroupSize);
        int row = Grid.IdxX, t = Group.IdxX, size = Group.DimX;
        int c = row % p.Step, n = row / p.Step;
        int start = n * p.Length * p.Step + c;
        bool isMax = p.IsMax != 0;
        float acc = isMax ? -float.MaxValue : 0f;
        for (int j = t; j < p.Length; j += size)
        {
            float v = input[start + j * p.Step];
            acc = isMax ? MathF.Max(acc, v) : acc + v;
        }
        acc = Reduce(partial, acc, isMax);
        if (t == 0) output[row] = isMax ? acc : acc / p.Length;
    }

    /// <summary>Layer normalization over each row of <c>length</c> contiguous values, the biased variance, then gamma and beta.</summary>
    public static void LayerNormalization(ArrayView<float> input, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> output, ReductionParams p)
    {
        var partial = SharedMemory.Allocate<float>(MaxGroupSize);
        int row = Grid.IdxX, t = Group.IdxX, size = Group.DimX;
        int start = row * p.Length;
        float sum = 0f;
        for (int j = t; j < p.Length; j += size) sum += input[start + j];
        float mean = Reduce(partial, sum, isMax: false) / p.Length;
        float squares = 0f;
        for (int j = t; j < p.Length; j += size)
        {
            float d = input[start + j] - mean;
            squares += d * d;
        }
        float variance = Reduce(partial, squares, isMax: false) / p.Length;
        float inverse = 1f / MathF.Sqrt(variance + p.Epsilon);
        for (int j = t; j < p.Length; j += size)
        {
            float v = (input[start + j] - mean) * inverse;
            if (p.HasScale != 0) v *= gamma[j];
            if (p.HasCenter != 0) v += beta[j];
            output[start + j] = v;
        }
    }

    /// <summary>
    /// The group's sum or max of <paramref name="value"/>, returned to every thread. Barriers sit outside divergent code:
    /// every thread runs every step of the tree.
    /// </summary>
    private static float Reduce(ArrayView<float> partial, float value, bool isMax)
    {
        int t = Group.IdxX;
        Group.Barrier();
        partial[t] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) partial[t] = isMax ? MathF.Max(partial[t], partial[t + half]) : partial[t] + partial[t + half];
            Group.Barrier();
        }
        return partial[0];
    }
}
