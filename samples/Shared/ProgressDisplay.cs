using NativeCnn.Weights.Pretrained;
using Spectre.Console;

namespace NativeCnn.Samples;

/// <summary>
/// Progress of long work drawn on stderr with Spectre.Console, only on a terminal (<see cref="Cli.ShowsProgress"/>): redirected
/// output and <c>--json</c> stay free of it.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>Runs <paramref name="work"/>, which reports each of its <paramref name="total"/> steps (with an optional new description).</summary>
    public static T Run<T>(bool enabled, string description, double total, Func<Action<string?>, T> work)
    {
        if (!enabled) return work(_ => { });
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1));
                result = work(what =>
                {
                    if (what is not null) task.Description = Markup.Escape(what);
                    task.Increment(1);
                });
            });
        return result;
    }

    /// <summary>
    /// Runs <paramref name="work"/>, which may download weight files: each file it reports through the
    /// <see cref="IProgress{T}"/> gets a bar with bytes and speed. Without <paramref name="enabled"/> the progress is null.
    /// </summary>
    public static T Download<T>(bool enabled, Func<IProgress<WeightDownloadProgress>?, T> work)
    {
        if (!enabled) return work(null);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var progress = new Reporter(report =>
                {
                    lock (tasks)
                    {
                        if (!tasks.TryGetValue(report.Url, out var task))
                        {
                            tasks[report.Url] = task = context.AddTask(Markup.Escape(report.Url[(report.Url.LastIndexOf('/') + 1)..]));
                        }
                        if (report.TotalBytes is { } total) task.MaxValue = Math.Max(total, 1);
                        else task.IsIndeterminate = true;
                        task.Value = report.BytesReceived;
                    }
                });
                result = work(progress);
            });
        return result;
    }

    /// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (the Spectre tasks lock themselves).</summary>
    private sealed class Reporter(Action<WeightDownloadProgress> report) : IProgress<WeightDownloadProgress>
    {
        public void Report(WeightDownloadProgress value) => report(value);
    }

    /// <summary>As <see cref="Run{T}"/> for work without a result.</summary>
    public static void Run(bool enabled, string description, double total, Action<Action<string?>> work) =>
        Run<bool>(enabled, description, total, step => { work(step); return true; });
}
