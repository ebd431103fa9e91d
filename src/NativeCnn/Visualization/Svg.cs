using System.Globalization;
using System.Text;

namespace NativeCnn.Visualization;

/// <summary>SVG text helpers: escaped text (layer names come from model files) and invariant numbers.</summary>
internal static class Svg
{
    public static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            builder.Append(c switch
            {
                '<' => "&lt;",
                '>' => "&gt;",
                '&' => "&amp;",
                '"' => "&quot;",
                '\'' => "&apos;",
                // Characters XML 1.0 cannot hold at all.
                < ' ' and not ('\t' or '\n' or '\r') => "?",
                _ => c.ToString(),
            });
        }
        return builder.ToString();
    }

    public static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>At most <paramref name="length"/> characters of <paramref name="text"/>, an ellipsis marking a cut.</summary>
    public static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 3)] + "...";
}
