using NativeCnn.Backends;
using NativeCnn.Backends.Cpu;
using NativeCnn.Tensors;

namespace NativeCnn.Tests.Models;

/// <summary>
/// The CPU backend refusing the ops <paramref name="refuses"/> picks, as the GPU backends refuse fused forms they have
/// no kernel for: fusion tests check that the planner then keeps the unfused steps.
/// </summary>
internal sealed class CpuBackendWithout(CpuBackend inner, string missing, Func<OpDescriptor, bool> refuses) : IBackend
{
    public string Name => $"cpu without {missing}";

    public bool Supports(OpDescriptor op, out string? reason)
    {
        if (refuses(op))
        {
            reason = $"no {missing}";
            return false;
        }
        return inner.Supports(op, out reason);
    }

    public IDeviceBuffer Allocate(TensorShape shape) => inner.Allocate(shape);
    public IPreparedOp Prepare(OpDescriptor op, OpBinding binding) => inner.Prepare(op, binding);
    public void Synchronize() => inner.Synchronize();
    public void Dispose() { }
}
