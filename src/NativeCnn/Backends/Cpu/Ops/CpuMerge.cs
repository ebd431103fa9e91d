using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>Subtract, Maximum, Minimum and Average of same-shaped inputs, in blocks of elements.</summary>
internal sealed class CpuMerge(MergeOp op, OpBinding binding, WorkerPool pool)
    : CpuElementwiseMerge(binding, pool, op.Mode == MergeMode.Subtract ? 2 : -1)
{
    private readonly MergeMode _mode = op.Mode;

    protected override void Combine(int start, int length, Span<float> output)
    {
        var first = Slice(0, start, length);
        var second = Slice(1, start, length);
        switch (_mode)
        {
            case MergeMode.Subtract:
                ElementwiseKernels.Subtract(first, second, output);
                break;
            case MergeMode.Maximum:
                ElementwiseKernels.Maximum(first, second, output);
                for (int i = 2; i < Inputs.Length; i++) ElementwiseKernels.Maximum(output, Slice(i, start, length), output);
                break;
            case MergeMode.Minimum:
                ElementwiseKernels.Minimum(first, second, output);
                for (int i = 2; i < Inputs.Length; i++) ElementwiseKernels.Minimum(output, Slice(i, start, length), output);
                break;
            case MergeMode.Average:
                // Keras sums in input order, then divides the sum.
                ElementwiseKernels.Add(first, second, output);
                for (int i = 2; i < Inputs.Length; i++) ElementwiseKernels.Add(output, Slice(i, start, length), output);
                ElementwiseKernels.Divide(output, Inputs.Length, output);
                break;
        }
    }
}
