using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>Subtract, Maximum, Minimum and Average of same-shaped inputs, in blocks of elements (as <see cref="CpuAdd"/>).</summary>
internal sealed class CpuMerge : CpuOp
{
    private const int ElementsPerRow = 4096;
    private readonly MergeMode _mode;

    public CpuMerge(MergeOp op, OpBinding binding, WorkerPool pool) : base(binding, pool, op.Mode == MergeMode.Subtract ? 2 : -1, 0)
    {
        _mode = op.Mode;
        if (Inputs.Length < 2) throw Fail($"expected at least 2 inputs, got {Inputs.Length}");
        for (int i = 0; i < Inputs.Length; i++) ExpectShape(Inputs[i].Shape, Output.Shape, $"input {i}");
    }

    protected override int RowCount => (Output.Length + ElementsPerRow - 1) / ElementsPerRow;

    public override void Execute(RowRange rows)
    {
        int start = rows.Start * ElementsPerRow, end = Math.Min(Output.Length, rows.End * ElementsPerRow);
        var output = Output.Span[start..end];
        ReadOnlySpan<float> Slice(int i) => Inputs[i].Span[start..end];
        switch (_mode)
        {
            case MergeMode.Subtract:
                ElementwiseKernels.Subtract(Slice(0), Slice(1), output);
                break;
            case MergeMode.Maximum:
                ElementwiseKernels.Maximum(Slice(0), Slice(1), output);
                for (int i = 2; i < Inputs.Length; i++) ElementwiseKernels.Maximum(output, Slice(i), output);
                break;
            case MergeMode.Minimum:
                ElementwiseKernels.Minimum(Slice(0), Slice(1), output);
                for (int i = 2; i < Inputs.Length; i++) ElementwiseKernels.Minimum(output, Slice(i), output);
                break;
            case MergeMode.Average:
                ElementwiseKernels.Add(Slice(0), Slice(1), output);
                for (int i = 2; i < Inputs.Length; i++) ElementwiseKernels.Add(output, Slice(i), output);
                ElementwiseKernels.Divide(output, Inputs.Length, output);
                break;
        }
    }
}
