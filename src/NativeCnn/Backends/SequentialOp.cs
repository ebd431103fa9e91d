namespace NativeCnn.Backends;

/// <summary>
/// Two prepared ops run one after the other through an intermediate buffer of the backend's own: how a backend that has
/// no fused kernel for an op made of two steps (<see cref="SeparableConv2DOp"/>) runs it with the kernels it has.
/// </summary>
/// <remarks>The intermediate is allocated once, when the op is prepared; <see cref="Run"/> allocates nothing.</remarks>
public sealed class SequentialOp : IPreparedOp
{
    private readonly IDeviceBuffer _intermediate;
    private readonly IPreparedOp _first, _second;

    private SequentialOp(IDeviceBuffer intermediate, IPreparedOp first, IPreparedOp second)
    {
        _intermediate = intermediate;
        _first = first;
        _second = second;
    }

    /// <summary>Prepares <paramref name="op"/> on <paramref name="backend"/> as its depthwise step, then its pointwise step.</summary>
    /// <exception cref="BackendException">The binding does not hold the op's weights, or a step cannot be prepared.</exception>
    public static IPreparedOp Prepare(IBackend backend, SeparableConv2DOp op, OpBinding binding)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(op);
        ArgumentNullException.ThrowIfNull(binding);
        int weights = op.Pointwise.UseBias ? 3 : 2;
        if (binding.Inputs.Count != 1 || binding.Weights.Count != weights)
            throw new BackendException($"{binding.LayerName}: a separable convolution takes 1 input and {weights} weights, got {binding.Inputs.Count} and {binding.Weights.Count}.");
        TensorShape shape;
        try
        {
            shape = op.IntermediateShape(binding.Inputs[0].Shape);
        }
        catch (ArgumentException e)
        {
            throw new BackendException($"{binding.LayerName}: {e.Message}.", e);
        }
        var intermediate = backend.Allocate(shape);
        IPreparedOp? first = null;
        try
        {
            first = backend.Prepare(op.Depthwise, new OpBinding(binding.LayerName, binding.Inputs, intermediate, [binding.Weights[0]]));
            var second = backend.Prepare(op.Pointwise, new OpBinding(binding.LayerName, [intermediate], binding.Output, [.. binding.Weights.Skip(1)]));
            return new SequentialOp(intermediate, first, second);
        }
        catch
        {
            first?.Dispose();
            intermediate.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Run()
    {
        _first.Run();
        _second.Run();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _second.Dispose();
        _first.Dispose();
        _intermediate.Dispose();
    }
}
