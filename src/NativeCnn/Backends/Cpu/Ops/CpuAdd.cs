using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>Sum of two or more same-shaped inputs, in blocks of elements.</summary>
internal sealed class CpuAdd(OpBinding binding, WorkerPool pool) : CpuElementwiseMerge(binding, pool, -1)
{
    protected override void Combine(int start, int length, Span<float> output)
    {
        ElementwiseKernels.Add(Slice(0, start, length), Slice(1, start, length), output);
        for (int i = 2; i < Inputs.Length; i++) ElementwiseKernels.Add(output, Slice(i, start, length), output);
    }
}
