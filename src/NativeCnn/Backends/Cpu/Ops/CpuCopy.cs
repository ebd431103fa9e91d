namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>Reshape, Flatten and inference Dropout: the data is unchanged, only the shape differs.</summary>
internal sealed class CpuCopy : CpuOp
{
    public CpuCopy(OpBinding binding, WorkerPool pool) : base(binding, pool, 1, 0)
    {
        if (Input.Length != Output.Length)
            throw Fail($"cannot copy {Input.Shape} ({Input.Length} values) into {Output.Shape} ({Output.Length} values)");
    }

    protected override int RowCount => 1;

    public override void Execute(RowRange rows) => Input.Span.CopyTo(Output.Span);
}
