namespace NativeCnn.Backends.Cpu;

/// <summary>Work split into independent rows; <see cref="WorkerPool"/> calls it on several threads with disjoint ranges.</summary>
public interface IRowWork
{
    /// <summary>Processes rows <c>[rows.Start, rows.End)</c>.</summary>
    void Execute(RowRange rows);
}
