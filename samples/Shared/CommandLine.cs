using System.Globalization;

namespace NativeCnn.Samples;

/// <summary>Minimal "--name value" / "--flag" parsing; unknown options are errors, so typos never pass silently.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public CommandLine(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string arg = list[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal)) { Positional.Add(arg); continue; }
            bool hasValue = i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal);
            _options[arg[2..]] = hasValue ? list[++i] : null;
        }
    }

    public List<string> Positional { get; } = [];

    public bool Flag(string name)
    {
        _read.Add(name);
        if (!_options.TryGetValue(name, out var value)) return false;
        if (value is not null) Positional.Add(value); // "--json summary" style: the value was a positional
        return true;
    }

    public string? String(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var value)
            ? value ?? throw new ArgumentException($"--{name} needs a value.")
            : null;
    }

    public int Int(string name, int fallback) =>
        String(name) is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) =>
        String(name) is { } s ? double.Parse(s, CultureInfo.InvariantCulture) : fallback;

    public void RejectUnknown()
    {
        var unknown = _options.Keys.Where(k => !_read.Contains(k)).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(k => "--" + k))}.");
    }
}
