using NativeCnn.Models;
using NativeCnn.Tensors;
using NativeCnn.Visualization;

namespace NativeCnn.Samples.Inspect;

/// <summary>The pictures Inspect draws, with the library's <see cref="NativeCnn.Visualization"/> renderers.</summary>
internal static class Pictures
{
    public static void WriteProfile(IReadOnlyList<ProfileBar> bars, string title, string path, TextWriter output)
    {
        Check(path);
        ProfileChart.Write(path, bars, title);
        output.WriteLine($"wrote the profile chart to {path}");
    }

    public static void WriteGraph(Model model, string path, TextWriter output)
    {
        if (PictureFormats.Of(Check(path)) != PictureFormat.Svg) throw new UsageException($"--plot {path}: the layer graph is drawn as .svg.");
        ModelGraph.Write(path, model, collapseBlocks: model.Layers.Count > 60);
        output.WriteLine($"wrote the layer graph to {path}");
    }

    public static void WriteActivations(Tensor activation, int maxChannels, string path, TextWriter output)
    {
        if (PictureFormats.Of(Check(path)) != PictureFormat.Png) throw new UsageException($"--png {path}: the activation grid is drawn as .png.");
        ActivationGrid.WritePng(path, activation, maxChannels);
        output.WriteLine($"wrote {Math.Min(activation.Shape.Channels, maxChannels)} channels of {activation.Shape} to {path}");
    }

    /// <summary>The path, refused as a usage error unless it ends in .svg or .png.</summary>
    private static string Check(string path)
    {
        try
        {
            PictureFormats.Of(path);
            return path;
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }
}
