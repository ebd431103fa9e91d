using ILGPU;

namespace NativeCnn.Backends.Ilgpu.Kernels;

/// <summary>The sizes of a dense layer, one kernel argument.</summary>
internal struct DenseParams
{
    public int Batch, Inputs, Units;
    public float ActivationParameter;
}

internal static class DenseKernels
{
    /// <summary>
    /// <c>output (batch, units) = act(input (batch, inputs) · kernel (inputs, units) + bias)</c>; one thread per output,
    /// neighbouring threads read neighbouring kernel columns. Launch: 1-D over batch · units.
    /// </summary>
    public static void Dense<TActivation>(ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias,
        ArrayView<float> output, DenseParams p) where TActivation : struct, IKernelActivation
    {
        int i = Grid.GlobalIndex.X;
        if (i >= p.Batch * p.Units) return;
        int u = i % p.Units, n = i / p.Units;
        int row = n * p.Inputs;
        float acc = 0f;
        for (int k = 0; k < p.Inputs; ++k) acc += input[row + k] * weights[k * p.Units + u];
        output[i] = default(TActivation).Apply(acc + bias[u], p.ActivationParameter);
    }
}
