namespace NativeCnn.Backends;

/// <summary>
/// A compute backend: allocates buffers, prepares ops once (kernel choice, weight upload, workspace) and runs them.
/// An op it cannot run is reported by <see cref="Supports"/> and never silently falls back elsewhere.
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>A readable name, e.g. <c>cpu-avx512 (2 threads)</c>.</summary>
    string Name { get; }

    /// <summary>Whether this backend can run <paramref name="op"/>; if not, <paramref name="reason"/> says why.</summary>
    bool Supports(OpDescriptor op, out string? reason);

    /// <summary>Allocates a zero-filled buffer on this backend.</summary>
    IDeviceBuffer Allocate(TensorShape shape);

    /// <summary>
    /// Prepares <paramref name="op"/> bound to its buffers and weights. Everything that can be settled ahead
    /// (weight packing or upload, scratch memory) is settled here, so <see cref="IPreparedOp.Run"/> allocates nothing.
    /// </summary>
    /// <exception cref="BackendException">The op is unsupported or the buffers do not fit it.</exception>
    IPreparedOp Prepare(OpDescriptor op, OpBinding binding);

    /// <summary>Waits until all queued work has finished.</summary>
    void Synchronize();

    /// <summary>
    /// How this backend wants a batch scheduled (image threads, passes), or null (the default) to run every batch as one
    /// pass of one plan.
    /// </summary>
    IExecutionStrategy? ExecutionStrategy => null;
}

/// <summary>What a prepared op reads and writes: buffers from the same backend, and host weights in Keras layout.</summary>
/// <param name="LayerName">The layer the op comes from, for error messages and profiles.</param>
/// <param name="Inputs">Input buffers, in the layer's input order.</param>
/// <param name="Output">The output buffer.</param>
/// <param name="Weights">The layer's weights in Keras order and layout (e.g. Conv2D: HWIO kernel, then bias).</param>
public sealed record OpBinding(string LayerName, IReadOnlyList<IDeviceBuffer> Inputs, IDeviceBuffer Output, IReadOnlyList<Tensor> Weights);

/// <summary>An op bound to its buffers and ready to run any number of times.</summary>
public interface IPreparedOp : IDisposable
{
    /// <summary>Runs the op: reads the bound inputs and writes the bound output. Allocates nothing.</summary>
    void Run();
}

/// <summary>A backend could not prepare or run an op; the message names the layer and the problem.</summary>
public sealed class BackendException(string message, Exception? inner = null) : Exception(message, inner);
