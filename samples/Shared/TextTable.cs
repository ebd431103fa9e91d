using Spectre.Console;
using Spectre.Console.Rendering;

namespace NativeCnn.Samples;

/// <summary>
/// A Spectre.Console table written to a text writer: every column as wide as its widest cell (layer and type names are
/// never cut or wrapped, also when the output is redirected), numbers right-aligned, text escaped (names come from files).
/// </summary>
internal sealed class TextTable
{
    private readonly Table _table = new Table().Border(TableBorder.Simple);
    private readonly bool[] _numeric;

    public TextTable(params (string Header, bool Numeric)[] columns)
    {
        _numeric = [.. columns.Select(c => c.Numeric)];
        foreach (var (header, numeric) in columns)
            _table.AddColumn(new TableColumn(new Text(header)) { Alignment = numeric ? Justify.Right : Justify.Left, NoWrap = true });
    }

    public void Add(params string[] cells) => _table.AddRow([.. cells.Select((c, i) => (IRenderable)new Text(c) { Justification = _numeric[i] ? Justify.Right : Justify.Left })]);

    public void Write(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 100_000; // never wrap: the table is as wide as its content
        console.Write(_table);
    }
}
