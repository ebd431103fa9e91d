namespace NativeCnn.Samples;

/// <summary>The samples' shared error handling: a clear one-line message and an exit code instead of a stack trace.</summary>
internal static class CommandExit
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code when an input file or model could not be used.</summary>
    public const int Failed = 1;

    /// <summary>Exit code for bad arguments (the usage is printed too).</summary>
    public const int BadArguments = 2;

    /// <summary>Runs <paramref name="body"/>, turning the expected failures into messages on <paramref name="stderr"/> and exit codes.</summary>
    public static int Run(Func<int> body, string usage, TextWriter stderr)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            stderr.WriteLine($"error: {e.Message}");
            stderr.WriteLine();
            stderr.WriteLine(usage);
            return BadArguments;
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return Failed;
        }
    }
}
