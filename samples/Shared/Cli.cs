using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;

namespace NativeCnn.Samples;

/// <summary>
/// The command lines' shared conventions, on System.CommandLine: <c>--help</c>/<c>-h</c>/<c>-?</c> print the usage and exit
/// 0 at once; a usage error (unknown option, bad value, missing argument) prints one line naming the option and exits 2;
/// a failed operation (missing or invalid file, a check that fails) prints one line naming the problem and exits 1;
/// <c>--verbose</c> adds the stack trace.
/// </summary>
internal static class Cli
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code when the operation failed: a file could not be used, a check failed.</summary>
    public const int Failed = 1;

    /// <summary>Exit code for a usage error.</summary>
    public const int UsageError = 2;

    /// <summary>Shows the stack trace of a failure (every command has it).</summary>
    public static Option<bool> Verbose { get; } = new("--verbose") { Description = "Show the stack trace of a failure.", Recursive = true };

    /// <summary>Parses <paramref name="args"/> for <paramref name="root"/> and runs the chosen command's action.</summary>
    /// <returns>The exit code: the action's, or <see cref="UsageError"/> / <see cref="Failed"/> with one line on <paramref name="stderr"/>.</returns>
    public static int Run(RootCommand root, IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        if (!root.Options.Contains(Verbose)) root.Options.Add(Verbose);
        var parsed = root.Parse(args);
        bool verbose = parsed.GetValue(Verbose);
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
        {
            // An unknown option explains the other errors it causes (a required option "missing" because it was misspelled).
            var error = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parsed.Errors[0];
            stderr.WriteLine($"error: {OneLine(error.Message).TrimEnd('.')}; see --help");
            return UsageError;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = stdout, Error = stderr });
        }
        catch (Exception e) when (e is UsageException)
        {
            stderr.WriteLine($"error: {e.Message.TrimEnd('.')}; see --help");
            if (verbose) stderr.WriteLine(e);
            return UsageError;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            stderr.WriteLine($"error: {Describe(e)}");
            if (verbose) stderr.WriteLine(e);
            return Failed;
        }
    }

    /// <summary>One line for a failure: the library's messages name the file and the problem; others get their type.</summary>
    private static string Describe(Exception e)
    {
        string message = e switch
        {
            FileNotFoundException { FileName: not null } f when !f.Message.Contains(f.FileName, StringComparison.Ordinal) => $"no such file: {f.FileName}",
            InvalidDataException or NotSupportedException or IOException or UnauthorizedAccessException or ArgumentException
                or KeyNotFoundException or InvalidOperationException => e.Message,
            _ => $"{e.GetType().Name}: {e.Message}",
        };
        return OneLine(message);
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>An input file, checked to exist as a file (not a folder), so the error names it plainly.</summary>
    /// <exception cref="FileNotFoundException">No such file, or <paramref name="path"/> is a folder.</exception>
    public static string ExistingFile(string path, string what = "input")
    {
        if (Directory.Exists(path)) throw new FileNotFoundException($"{path} is a folder, not a file (the {what} was expected).", path);
        if (!File.Exists(path)) throw new FileNotFoundException($"no such file: {path}", path);
        return path;
    }

    /// <summary>An <see cref="Option{T}"/> of integers at least <paramref name="minimum"/>; a smaller value is a usage error naming the option.</summary>
    public static Option<int> PositiveInt(string name, string description, int fallback, int minimum = 1, params string[] aliases)
    {
        var option = new Option<int>(name, aliases) { Description = description, DefaultValueFactory = _ => fallback };
        option.Validators.Add(result =>
        {
            if (TryValue<int>(result) is { } value && value < minimum) result.AddError($"{name} must be at least {minimum}, got {value}");
        });
        return option;
    }

    /// <summary>An optional integer option, at least <paramref name="minimum"/> when given; a bad value is a usage error naming the option.</summary>
    public static Option<int?> OptionalPositiveInt(string name, string description, int minimum = 1)
    {
        return new Option<int?>(name)
        {
            Description = description,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
                {
                    result.AddError($"{name} takes an integer, got '{text}'");
                    return null;
                }
                if (value < minimum) result.AddError($"{name} must be at least {minimum}, got {value}");
                return value;
            },
        };
    }

    /// <summary>Refuses argument values that look like options, so an unknown option is named as such, not taken for a file name.</summary>
    public static TArgument RejectingOptions<TArgument>(TArgument argument) where TArgument : Argument
    {
        argument.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (token.Value.Length > 1 && token.Value[0] == '-') result.AddError($"Unrecognized option '{token.Value}'");
            }
        });
        return argument;
    }

    /// <summary>The option's value, or null when it did not parse (the parser reports that error itself, naming the option).</summary>
    public static T? TryValue<T>(System.CommandLine.Parsing.OptionResult result) where T : struct
    {
        try
        {
            return result.GetValueOrDefault<T>();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A comma-separated list option (<c>--models a,b</c>), split and trimmed.</summary>
    public static string[] List(string? value) =>
        value is null ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Whether progress may be drawn: a terminal on stdout and stderr, and no machine-readable output asked for.</summary>
    public static bool ShowsProgress(bool json) => !json && !Console.IsOutputRedirected && !Console.IsErrorRedirected;
}

/// <summary>A usage error found after parsing (options that go together, an unknown model name): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
