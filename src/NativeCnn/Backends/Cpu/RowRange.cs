namespace NativeCnn.Backends.Cpu;

/// <summary>A half-open range of work rows <c>[Start, End)</c>; kernels split their work by rows, as ggml does.</summary>
public readonly record struct RowRange(int Start, int End)
{
    /// <summary>The number of rows.</summary>
    public int Count => End - Start;

    /// <summary>All rows <c>[0, count)</c>.</summary>
    public static RowRange All(int count) => new(0, count);
}
