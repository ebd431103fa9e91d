using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NativeCnn.Benchmarks;

/// <summary>
/// <c>GFLOP/s = flops / median time</c>. By default the flops are <c>OpCase.Flops</c> of the <see cref="OpCase"/> that a
/// benchmark's <c>Op</c> parameter names; other benchmarks pass their own count per case.
/// </summary>
/// <param name="flopsOf">The floating-point operations of one run of a case, or null where the case has none.</param>
/// <param name="legend">How the flops are counted.</param>
public sealed class GigaFlopsColumn(Func<BenchmarkCase, double?> flopsOf, string legend) : IColumn
{
    /// <summary>The column for <see cref="OpBenchmarks"/>: the flops of the op case its <c>Op</c> parameter names.</summary>
    public GigaFlopsColumn()
        : this(c => c.Parameters["Op"] is string name ? OpCases.Find(name).Flops : null,
               "2 x multiply-accumulates (or elements combined) per run / median time, in 10^9 per second")
    {
    }

    /// <inheritdoc/>
    public string Id => nameof(GigaFlopsColumn);
    /// <inheritdoc/>
    public string ColumnName => "GFLOP/s";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => 0;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => legend;

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? medianNs = summary[benchmarkCase]?.ResultStatistics?.Median;
        if (medianNs is not > 0 || flopsOf(benchmarkCase) is not { } flops) return "-";
        return (flops / medianNs.Value).ToString("F2", style.CultureInfo);
    }

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
