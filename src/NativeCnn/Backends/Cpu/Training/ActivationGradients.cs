using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>Picks the gradient kernel of an <see cref="ActivationFunction"/> (<see cref="ActivationBackwardKernels"/>).</summary>
internal static class ActivationGradients
{
    /// <summary>
    /// <c>dx = act'(·) · dy</c> element-wise from the pre-activation <paramref name="x"/> or the output
    /// <paramref name="y"/> (whichever the gradient reads); softmax works on rows of <paramref name="rowLength"/> values.
    /// <paramref name="dx"/> may be <paramref name="dy"/>.
    /// </summary>
    public static void Backward(ActivationFunction activation, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy,
                                Span<float> dx, int rowLength)
    {
        switch (activation.Kind)
        {
            case ActivationKind.Linear:
                if (!dx.Overlaps(dy)) dy.CopyTo(dx);
                return;
            case ActivationKind.Softmax:
                ActivationBackwardKernels.Softmax(y, dy, dx, rowLength);
                return;
            case ActivationKind.Relu when float.IsPositiveInfinity(activation.MaxValue): Apply(x, y, dy, dx, default(ReluGradient)); return;
            case ActivationKind.Relu: Apply(x, y, dy, dx, new BoundedReluGradient(activation.MaxValue)); return;
            case ActivationKind.Sigmoid: Apply(x, y, dy, dx, default(SigmoidGradient)); return;
            case ActivationKind.Tanh: Apply(x, y, dy, dx, default(TanhGradient)); return;
            case ActivationKind.Swish: Apply(x, y, dy, dx, default(SwishGradient)); return;
            case ActivationKind.HardSwish: Apply(x, y, dy, dx, default(HardSwishGradient)); return;
            case ActivationKind.HardSigmoid when !activation.IsKeras2HardSigmoid: Apply(x, y, dy, dx, default(HardSigmoidGradient)); return;
            case ActivationKind.HardSigmoid: Keras2HardSigmoid(x, dy, dx); return;
            case ActivationKind.Gelu: Apply(x, y, dy, dx, default(GeluGradient)); return;
            case ActivationKind.Elu: Apply(x, y, dy, dx, new EluGradient(activation.Alpha)); return;
            case ActivationKind.Selu: Apply(x, y, dy, dx, default(SeluGradient)); return;
            case ActivationKind.Softplus: Apply(x, y, dy, dx, default(SoftplusGradient)); return;
            case ActivationKind.LeakyRelu: Apply(x, y, dy, dx, new LeakyReluGradient(activation.Alpha)); return;
            default: throw new NotSupportedException($"no gradient for activation {activation.Kind}");
        }
    }

    /// <summary>
    /// Whether the gradient of <paramref name="activation"/> reads the output <c>y</c> (else the pre-activation
    /// <c>x</c>), as <see cref="Backward"/> picks; softmax reads <c>y</c>.
    /// </summary>
    public static bool UsesOutput(ActivationFunction activation) => activation.Kind switch
    {
        ActivationKind.Linear => false,
        ActivationKind.Softmax => true,
        ActivationKind.Relu when float.IsPositiveInfinity(activation.MaxValue) => default(ReluGradient).UsesOutput,
        ActivationKind.Relu => new BoundedReluGradient(activation.MaxValue).UsesOutput,
        ActivationKind.Sigmoid => default(SigmoidGradient).UsesOutput,
        ActivationKind.Tanh => default(TanhGradient).UsesOutput,
        ActivationKind.Swish => default(SwishGradient).UsesOutput,
        ActivationKind.HardSwish => default(HardSwishGradient).UsesOutput,
        ActivationKind.HardSigmoid when !activation.IsKeras2HardSigmoid => default(HardSigmoidGradient).UsesOutput,
        ActivationKind.HardSigmoid => false,
        ActivationKind.Gelu => default(GeluGradient).UsesOutput,
        ActivationKind.Elu => new EluGradient(activation.Alpha).UsesOutput,
        ActivationKind.Selu => default(SeluGradient).UsesOutput,
        ActivationKind.Softplus => default(SoftplusGradient).UsesOutput,
        ActivationKind.LeakyRelu => new LeakyReluGradient(activation.Alpha).UsesOutput,
        _ => throw new NotSupportedException($"no gradient for activation {activation.Kind}"),
    };

    private static void Apply<TGradient>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, TGradient gradient)
        where TGradient : struct, IActivationGradient =>
        ActivationBackwardKernels.Apply(gradient.UsesOutput ? y : x, dy, dx, gradient);

    // Keras 2's clip(0.2·x + 0.5, 0, 1): slope 0.2 on [-2.5, 2.5], boundaries included, as TensorFlow differentiates clip_by_value.
    private static void Keras2HardSigmoid(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < dy.Length; i++)
            dx[i] = x[i] >= -2.5f && x[i] <= 2.5f ? 0.2f * dy[i] : 0f;
    }
}
