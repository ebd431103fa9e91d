namespace NativeCnn.Backends.Cpu.Kernels;

/// <summary>
/// Receives the operator struct for a run-time <see cref="ActivationFunction"/>, so one switch (in
/// <see cref="ActivationDispatch"/>) turns a descriptor into a JIT-specialized kernel call.
/// </summary>
public interface IActivationConsumer
{
    /// <summary>Called once with the activation's operator struct.</summary>
    void Invoke<TActivation>(TActivation activation) where TActivation : struct, IActivation;
}

/// <summary>Maps an element-wise <see cref="ActivationFunction"/> to its operator struct.</summary>
public static class ActivationDispatch
{
    /// <summary>Calls <paramref name="consumer"/> with the operator struct for <paramref name="activation"/>.</summary>
    /// <exception cref="NotSupportedException">The activation is not element-wise (softmax).</exception>
    public static void Dispatch<TConsumer>(ActivationFunction activation, ref TConsumer consumer)
        where TConsumer : IActivationConsumer, allows ref struct
    {
        switch (activation.Kind)
        {
            case ActivationKind.Linear: consumer.Invoke(new IdentityActivation()); break;
            case ActivationKind.Relu when float.IsPositiveInfinity(activation.MaxValue): consumer.Invoke(new ReluActivation()); break;
            case ActivationKind.Relu: consumer.Invoke(new BoundedReluActivation(activation.MaxValue)); break;
            case ActivationKind.Sigmoid: consumer.Invoke(new SigmoidActivation()); break;
            case ActivationKind.Swish: consumer.Invoke(new SwishActivation()); break;
            case ActivationKind.Tanh: consumer.Invoke(new TanhActivation()); break;
            case ActivationKind.HardSwish: consumer.Invoke(new HardSwishActivation()); break;
            case ActivationKind.LeakyRelu: consumer.Invoke(new LeakyReluActivation(activation.Alpha)); break;
            case ActivationKind.Elu: consumer.Invoke(new EluActivation(activation.Alpha)); break;
            case ActivationKind.Selu: consumer.Invoke(new SeluActivation()); break;
            case ActivationKind.HardSigmoid when activation.IsKeras2HardSigmoid: consumer.Invoke(new HardSigmoidKeras2Activation()); break;
            case ActivationKind.HardSigmoid: consumer.Invoke(new HardSigmoidActivation()); break;
            case ActivationKind.Gelu: consumer.Invoke(new GeluActivation()); break;
            case ActivationKind.Softplus: consumer.Invoke(new SoftplusActivation()); break;
            default: throw new NotSupportedException($"Activation '{activation}' is not element-wise and cannot be fused into a kernel.");
        }
    }
}
