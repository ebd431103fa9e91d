using System.CommandLine;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Samples;

/// <summary>
/// <c>--weights imagenet</c>: a zoo model with Keras's ImageNet weights, downloaded once into <c>$NATIVECNN_HOME/models</c>
/// (default <c>~/.nativecnn/models</c>) from Keras's URL, or from <c>$NATIVECNN_WEIGHTS_URL</c> when set.
/// </summary>
internal static class Pretrained
{
    /// <summary>Whether the <c>--weights</c> value asks for the ImageNet weights; a file of that name wins.</summary>
    public static bool IsImageNet(string? weights) =>
        string.Equals(weights, "imagenet", StringComparison.OrdinalIgnoreCase) && !File.Exists(weights) && !Directory.Exists(weights);

    /// <summary>Whether a download may draw progress: stderr is a terminal and the command was not asked for <c>--json</c>.</summary>
    public static bool ShowsProgress(ParseResult result)
    {
        bool json = result.CommandResult.Command.Options.FirstOrDefault(o => o.Name == "--json") is Option<bool> option && result.GetValue(option);
        return !json && !Console.IsErrorRedirected;
    }

    /// <summary>Builds <paramref name="arch"/> with the ImageNet weights, drawing the download's progress on stderr when <paramref name="progress"/>.</summary>
    /// <exception cref="UsageException">The architecture or options are invalid for the ImageNet weights.</exception>
    public static Model Create(string arch, ApplicationOptions options, bool progress)
    {
        try
        {
            return ProgressDisplay.Download(progress, reporter =>
                ModelZoo.Create(arch, options with { Weights = "imagenet", Download = new Weights.Pretrained.PretrainedWeightsOptions { Progress = reporter } }));
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }
}
