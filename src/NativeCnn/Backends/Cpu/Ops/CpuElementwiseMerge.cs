namespace NativeCnn.Backends.Cpu.Ops;

/// <summary>
/// The base of ops that combine two or more same-shaped inputs element by element (<see cref="CpuAdd"/>,
/// <see cref="CpuMerge"/>): checks the shapes once and splits the work into blocks of elements.
/// </summary>
internal abstract class CpuElementwiseMerge : CpuOp
{
    private const int ElementsPerRow = 4096;

    protected CpuElementwiseMerge(OpBinding binding, WorkerPool pool, int inputCount) : base(binding, pool, inputCount, 0)
    {
        if (Inputs.Length < 2) throw Fail($"expected at least 2 inputs, got {Inputs.Length}");
        for (int i = 0; i < Inputs.Length; i++) ExpectShape(Inputs[i].Shape, Output.Shape, $"input {i}");
    }

    protected override int RowCount => (Output.Length + ElementsPerRow - 1) / ElementsPerRow;

    public sealed override void Execute(RowRange rows)
    {
        int start = rows.Start * ElementsPerRow, end = Math.Min(Output.Length, rows.End * ElementsPerRow);
        Combine(start, end - start, Output.Span[start..end]);
    }

    /// <summary>Writes <paramref name="output"/>, elements <c>[start, start + length)</c>, from the inputs' same elements.</summary>
    protected abstract void Combine(int start, int length, Span<float> output);

    /// <summary>Elements <c>[start, start + length)</c> of input <paramref name="index"/>.</summary>
    protected ReadOnlySpan<float> Slice(int index, int start, int length) => Inputs[index].Span.Slice(start, length);
}
