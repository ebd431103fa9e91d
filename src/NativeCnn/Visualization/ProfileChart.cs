using System.Text;
using NativeCnn.Imaging;

namespace NativeCnn.Visualization;

/// <summary>One step of a profile: its name, its type (the layers it runs), its median time and its GFLOP/s (0 when it has no multiply-adds).</summary>
/// <param name="Name">The step's (first layer's) name.</param>
/// <param name="Type">What it runs, e.g. <c>Conv2D+BN+Activation</c>.</param>
/// <param name="Milliseconds">Median time.</param>
/// <param name="GigaFlops">Achieved GFLOP/s (2 × multiply-adds per second, in billions).</param>
public sealed record ProfileBar(string Name, string Type, double Milliseconds, double GigaFlops);

/// <summary>
/// A per-layer profile as a horizontal bar chart: the slowest steps, largest first, each with a time bar and a GFLOP/s bar,
/// the rest summed into one "others" row. As SVG text or as an RGB raster (a PNG with <see cref="PngEncoder"/>).
/// </summary>
public static class ProfileChart
{
    /// <summary>The bars drawn by default; the rest are summed into one row.</summary>
    public const int DefaultMaxBars = 40;

    private const int RowHeight = 16, TimeBarWidth = 320, RateBarWidth = 160, Margin = 8, NameLength = 40, TypeLength = 32;
    private static readonly (byte, byte, byte) s_background = (255, 255, 255), s_text = (20, 20, 20), s_time = (70, 110, 200), s_rate = (230, 140, 40), s_grid = (225, 225, 225);

    /// <summary>
    /// The rows a chart of <paramref name="bars"/> draws: the <paramref name="maxBars"/> − 1 slowest (all of them when
    /// they fit), slowest first, then one row "others (N steps)" with their summed time and their time-weighted GFLOP/s.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">maxBars is below 2, or a time or rate is negative or not finite.</exception>
    public static IReadOnlyList<ProfileBar> Rows(IReadOnlyList<ProfileBar> bars, int maxBars = DefaultMaxBars)
    {
        ArgumentNullException.ThrowIfNull(bars);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBars, 2);
        foreach (var bar in bars)
        {
            if (!(bar.Milliseconds >= 0) || !double.IsFinite(bar.Milliseconds) || !(bar.GigaFlops >= 0) || !double.IsFinite(bar.GigaFlops))
                throw new ArgumentOutOfRangeException(nameof(bars), $"{bar.Name}: time and rate must be finite and non-negative, got {bar.Milliseconds} ms, {bar.GigaFlops} GFLOP/s");
        }
        var sorted = bars.OrderByDescending(b => b.Milliseconds).ToList();
        if (sorted.Count <= maxBars) return sorted;
        var rest = sorted.Skip(maxBars - 1).ToList();
        double ms = rest.Sum(b => b.Milliseconds);
        double rate = ms > 0 ? rest.Sum(b => b.GigaFlops * b.Milliseconds) / ms : 0;
        return [.. sorted.Take(maxBars - 1), new ProfileBar($"others ({rest.Count} steps)", "", ms, rate)];
    }

    /// <summary>The chart as an SVG document.</summary>
    public static string ToSvg(IReadOnlyList<ProfileBar> bars, string title, int maxBars = DefaultMaxBars)
    {
        ArgumentNullException.ThrowIfNull(title);
        var rows = Rows(bars, maxBars);
        var (nameWidth, typeWidth) = LabelWidths(rows, 7);
        double maxMs = Math.Max(rows.Count == 0 ? 0 : rows.Max(r => r.Milliseconds), 1e-9), maxRate = Math.Max(rows.Count == 0 ? 0 : rows.Max(r => r.GigaFlops), 1e-9);
        int timeX = Margin + nameWidth + typeWidth, rateX = timeX + TimeBarWidth + 80;
        int width = rateX + RateBarWidth + 90, height = Margin * 2 + RowHeight * (rows.Count + 2);
        var svg = new StringBuilder();
        svg.Append($"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">""").Append('\n');
        svg.Append($"""<rect width="{width}" height="{height}" fill="white"/>""").Append('\n');
        svg.Append($"""<text x="{Margin}" y="{Margin + 12}" font-weight="bold">{Svg.Escape(Svg.Shorten(title, 160))}</text>""").Append('\n');
        int headerY = Margin + RowHeight + 12;
        svg.Append($"""<text x="{Margin}" y="{headerY}" fill="#555">layer</text><text x="{Margin + nameWidth}" y="{headerY}" fill="#555">type</text>""");
        svg.Append($"""<text x="{timeX}" y="{headerY}" fill="#4669c8">time (ms)</text><text x="{rateX}" y="{headerY}" fill="#e68c28">GFLOP/s</text>""").Append('\n');
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            int y = Margin + RowHeight * (i + 2);
            double timeWidth = row.Milliseconds / maxMs * TimeBarWidth, rateWidth = row.GigaFlops / maxRate * RateBarWidth;
            svg.Append($"""<g class="step"><title>{Svg.Escape(row.Name)} ({Svg.Escape(row.Type)}): {Svg.Number(row.Milliseconds)} ms, {Svg.Number(row.GigaFlops)} GFLOP/s</title>""");
            svg.Append($"""<text x="{Margin}" y="{y + 12}">{Svg.Escape(Svg.Shorten(row.Name, NameLength))}</text>""");
            svg.Append($"""<text x="{Margin + nameWidth}" y="{y + 12}" fill="#555">{Svg.Escape(Svg.Shorten(row.Type, TypeLength))}</text>""");
            svg.Append($"""<rect class="time" x="{timeX}" y="{y + 2}" width="{Svg.Number(timeWidth)}" height="{RowHeight - 4}" fill="#4669c8"/>""");
            svg.Append($"""<text x="{Svg.Number(timeX + timeWidth + 4)}" y="{y + 12}">{row.Milliseconds:F3}</text>""");
            svg.Append($"""<rect class="rate" x="{rateX}" y="{y + 2}" width="{Svg.Number(rateWidth)}" height="{RowHeight - 4}" fill="#e68c28"/>""");
            svg.Append($"""<text x="{Svg.Number(rateX + rateWidth + 4)}" y="{y + 12}">{(row.GigaFlops > 0 ? $"{row.GigaFlops:F1}" : "")}</text></g>""").Append('\n');
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>The chart as an RGB raster, labels in <see cref="BitmapFont"/>.</summary>
    public static RgbImage ToImage(IReadOnlyList<ProfileBar> bars, string title, int maxBars = DefaultMaxBars)
    {
        ArgumentNullException.ThrowIfNull(title);
        var rows = Rows(bars, maxBars);
        var (nameWidth, typeWidth) = LabelWidths(rows, BitmapFont.Width);
        double maxMs = Math.Max(rows.Count == 0 ? 0 : rows.Max(r => r.Milliseconds), 1e-9), maxRate = Math.Max(rows.Count == 0 ? 0 : rows.Max(r => r.GigaFlops), 1e-9);
        int timeX = Margin + nameWidth + typeWidth, rateX = timeX + TimeBarWidth + 70;
        var canvas = new Canvas(rateX + RateBarWidth + 60, Margin * 2 + RowHeight * (rows.Count + 2), s_background);
        canvas.DrawText(Margin, Margin, Svg.Shorten(title, (canvas.Width - 2 * Margin) / BitmapFont.Width), s_text);
        int headerY = Margin + RowHeight;
        canvas.DrawText(Margin, headerY, "layer", (90, 90, 90));
        canvas.DrawText(Margin + nameWidth, headerY, "type", (90, 90, 90));
        canvas.DrawText(timeX, headerY, "time (ms)", s_time);
        canvas.DrawText(rateX, headerY, "GFLOP/s", s_rate);
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            int y = Margin + RowHeight * (i + 2);
            if (i % 2 == 1) canvas.FillRectangle(0, y, canvas.Width, RowHeight, (246, 246, 246));
            canvas.FillRectangle(timeX, y + RowHeight - 1, TimeBarWidth, 1, s_grid);
            int timeWidth = (int)Math.Round(row.Milliseconds / maxMs * TimeBarWidth), rateWidth = (int)Math.Round(row.GigaFlops / maxRate * RateBarWidth);
            canvas.DrawText(Margin, y + 3, Svg.Shorten(row.Name, NameLength), s_text);
            canvas.DrawText(Margin + nameWidth, y + 3, Svg.Shorten(row.Type, TypeLength), (90, 90, 90));
            canvas.FillRectangle(timeX, y + 2, timeWidth, RowHeight - 4, s_time);
            canvas.DrawText(timeX + timeWidth + 4, y + 3, $"{row.Milliseconds:F3}", s_text);
            canvas.FillRectangle(rateX, y + 2, rateWidth, RowHeight - 4, s_rate);
            if (row.GigaFlops > 0) canvas.DrawText(rateX + rateWidth + 4, y + 3, $"{row.GigaFlops:F1}", s_text);
        }
        return canvas.ToImage();
    }

    /// <summary>Writes the chart to <paramref name="path"/>: SVG for <c>.svg</c>, PNG for <c>.png</c>.</summary>
    /// <exception cref="ArgumentException">The extension is neither.</exception>
    public static void Write(string path, IReadOnlyList<ProfileBar> bars, string title, int maxBars = DefaultMaxBars)
    {
        switch (PictureFormats.Of(path))
        {
            case PictureFormat.Svg: File.WriteAllText(path, ToSvg(bars, title, maxBars)); break;
            default: PngEncoder.Write(path, ToImage(bars, title, maxBars)); break;
        }
    }

    private static (int Name, int Type) LabelWidths(IReadOnlyList<ProfileBar> rows, int characterWidth)
    {
        int name = Math.Max(5, rows.Count == 0 ? 0 : rows.Max(r => Math.Min(r.Name.Length, NameLength)));
        int type = Math.Max(4, rows.Count == 0 ? 0 : rows.Max(r => Math.Min(r.Type.Length, TypeLength)));
        return ((name + 2) * characterWidth, (type + 2) * characterWidth);
    }
}

/// <summary>The picture formats the writers choose by file extension.</summary>
public enum PictureFormat
{
    /// <summary>Scalable vector graphics, <c>.svg</c>.</summary>
    Svg,
    /// <summary>A PNG raster, <c>.png</c>.</summary>
    Png,
}

/// <summary>Picks a <see cref="PictureFormat"/> by extension.</summary>
public static class PictureFormats
{
    /// <summary>The format <paramref name="path"/>'s extension names.</summary>
    /// <exception cref="ArgumentException">The extension is neither <c>.svg</c> nor <c>.png</c>.</exception>
    public static PictureFormat Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".svg" => PictureFormat.Svg,
            ".png" => PictureFormat.Png,
            _ => throw new ArgumentException($"{path}: a picture is written as .svg or .png, not '{extension}'.", nameof(path)),
        };
    }
}
