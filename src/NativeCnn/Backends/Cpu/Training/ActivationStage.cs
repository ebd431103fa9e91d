using NativeCnn.Backends.Cpu.Ops;

namespace NativeCnn.Backends.Cpu.Training;

/// <summary>
/// The fused activation of a convolution or dense layer in training: the product is written to a pre-activation
/// tensor (the output itself for a linear activation), the activation maps it to the output, and backward turns the
/// output gradient into the pre-activation gradient.
/// </summary>
internal sealed class ActivationStage : IDisposable
{
    private readonly ActivationFunction _activation;
    private readonly CpuActivation? _op;
    private readonly Tensor _output;
    private readonly Tensor? _gradient;

    public ActivationStage(string layerName, ActivationFunction activation, Tensor output, IDeviceBuffer outputBuffer, WorkerPool pool)
    {
        _activation = activation;
        _output = output;
        bool linear = activation.Kind == ActivationKind.Linear;
        PreActivation = linear ? output : new Tensor(output.Shape);
        PreActivationBuffer = new HostBuffer(PreActivation);
        if (linear) return;
        _gradient = new Tensor(output.Shape);
        _op = new CpuActivation(new ActivationOp(activation), new OpBinding(layerName, [PreActivationBuffer], outputBuffer, []), pool);
    }

    /// <summary>Where the layer's product goes.</summary>
    public Tensor PreActivation { get; }

    /// <summary><see cref="PreActivation"/> as a buffer, for an inference op that computes the product.</summary>
    public HostBuffer PreActivationBuffer { get; }

    /// <summary>Applies the activation (nothing for a linear one).</summary>
    public void Run() => _op?.Run();

    /// <summary><c>dZ = act'(z) · dY</c>, or <paramref name="outputGradient"/> itself for a linear activation.</summary>
    public Tensor Backward(Tensor outputGradient)
    {
        if (_gradient is null) return outputGradient;
        ActivationGradients.Backward(_activation, PreActivation.Span, _output.Span, outputGradient.Span, _gradient.Span, _output.Shape.Channels);
        return _gradient;
    }

    public void Dispose()
    {
        _op?.Dispose();
        if (PreActivation != _output) PreActivation.Dispose();
        _gradient?.Dispose();
    }
}
