using NativeCnn.Models;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Weights.Pretrained;

/// <summary>What the application builders do with <see cref="ApplicationOptions.Weights"/>, as the end of Keras's builders does.</summary>
internal static class ApplicationWeights
{
    /// <summary>The Keras value of <c>weights</c> that fetches the published ImageNet weights.</summary>
    public const string ImageNet = "imagenet";

    /// <summary>
    /// Checks the options Keras checks for <c>weights="imagenet"</c> before a model is built: 1000 classes with the top, and
    /// (where the weights have them) 3 input channels.
    /// </summary>
    /// <exception cref="ArgumentException">The options contradict the ImageNet weights.</exception>
    public static void Validate(ApplicationOptions options)
    {
        if (!IsImageNet(options.Weights)) return;
        if (options.IncludeTop && options.Classes != 1000)
            throw new ArgumentException($"Weights = \"imagenet\" with IncludeTop needs Classes = 1000, got {options.Classes}.", nameof(options));
        if (options.InputChannels != 3)
            throw new ArgumentException($"Weights = \"imagenet\" needs InputChannels = 3, got {options.InputChannels}.", nameof(options));
        // mobilenet.py: "If imagenet weights are being loaded, depth multiplier must be 1".
        if (options.DepthMultiplier != 1)
            throw new ArgumentException($"Weights = \"imagenet\" needs DepthMultiplier = 1, got {options.DepthMultiplier}.", nameof(options));
    }

    /// <summary>
    /// Loads <see cref="ApplicationOptions.Weights"/> into the freshly built <paramref name="model"/>: nothing for null
    /// (seeded random weights), the Keras ImageNet file for <c>"imagenet"</c>, otherwise the weights file or folder it
    /// names (<see cref="ModelFile.LoadWeights"/>). The model is disposed when loading fails.
    /// </summary>
    public static Model Load(Model model, ApplicationOptions options)
    {
        string? weights = options.Weights;
        if (weights is null) return model;
        try
        {
            if (!IsImageNet(weights))
            {
                model.LoadWeights(weights);
                return model;
            }
            var file = PretrainedWeights.ImageNet(CatalogName(model.Name, options), options.IncludeTop);
            bool loaded = false;
            // Without a published hash the file must load into this very model before it is kept.
            string path = PretrainedWeights.Fetch(file, options.Download, temp =>
            {
                model.LoadWeights(temp);
                loaded = true;
            });
            if (!loaded) model.LoadWeights(path);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The catalog name of a built model: its Keras model name, except MobileNetV3, whose name
    /// (<c>MobileNetV3Small</c>) does not say its width: Keras's weights key (<c>small_224_1.0_float</c>) instead.</summary>
    private static string CatalogName(string modelName, ApplicationOptions options)
    {
        if (modelName is not ("MobileNetV3Small" or "MobileNetV3Large")) return modelName;
        // Python's str(alpha): 1.0, 0.75.
        string alpha = options.Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        if (!alpha.Contains('.', StringComparison.Ordinal)) alpha += ".0";
        string type = modelName == "MobileNetV3Small" ? "small" : "large";
        return $"{type}{(options.Minimalistic ? "_minimalistic" : "")}_224_{alpha}_float";
    }

    private static bool IsImageNet(string? weights) => string.Equals(weights, ImageNet, StringComparison.OrdinalIgnoreCase);
}
