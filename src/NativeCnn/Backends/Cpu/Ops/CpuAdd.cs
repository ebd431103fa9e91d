using NativeCnn.Backends.Cpu.Kernels;

namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>Sum of two or more same-shaped inputs, in blocks of elements.</summary>
internal sealed class CpuAdd : CpuOp
{
    private const int ElementsPerRow = 4096;

    public CpuAdd(OpBinding binding, WorkerPool pool) : base(binding, pool, -1, 0)
    {
        if (Inputs.Length < 2) throw Fail($"expected at least 2 inputs, got {Inputs.Length}");
        for (int i = 0; i < Inputs.Length; i++) ExpectShape(Inputs[i].Shape, Output.Shape, $"input {i}");
    }

    protected override int RowCount => (Output.Length + ElementsPerRow - 1) / ElementsPerRow;

    public override void Execute(RowRange rows)
    {
        int start = rows.Start * ElementsPerRow, end = Math.Min(Output.Length, rows.End * ElementsPerRow);
        var output = Output.Span[start..end];
        ElementwiseKernels.Add(Inputs[0].Span[start..end], Inputs[1].Span[start..end], output);
        for (int i = 2; i < Inputs.Length; i++) ElementwiseKernels.Add(output, Inputs[i].Span[start..end], output);
    }
}
