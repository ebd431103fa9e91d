namespace NativeCnn.Models.Architectures;

/// <summary>The Keras applications by name, for command lines and configuration files.</summary>
public static class ModelZoo
{
    private static readonly (string Name, Func<ApplicationOptions, Model> Create)[] s_builders =
    [
        ("resnet50", ResNet.ResNet50),
        ("resnet101", ResNet.ResNet101),
        ("resnet152", ResNet.ResNet152),
        ("resnet50v2", ResNetV2.ResNet50V2),
        ("resnet101v2", ResNetV2.ResNet101V2),
        ("resnet152v2", ResNetV2.ResNet152V2),
        ("mobilenet", MobileNet.Create),
        ("mobilenetv2", MobileNetV2.Create),
        ("mobilenetv3small", MobileNetV3.Small),
        ("mobilenetv3large", MobileNetV3.Large),
        .. EfficientNetVariant.Standard.Select((v, i) => ($"efficientnet-b{i}", (Func<ApplicationOptions, Model>)(o => EfficientNet.Create(v, o)))),
        // Keras's own model names (efficientnetv2-b0 … efficientnetv2-l); compacted they are efficientnetv2b0 …, distinct from V1's efficientnetb0 ….
        .. EfficientNetV2Variant.Standard.Select(v => (v.Name, (Func<ApplicationOptions, Model>)(o => EfficientNetV2.Create(v, o)))),
    ];

    /// <summary>
    /// The architecture names: <c>resnet50</c>, <c>resnet101</c>, <c>resnet152</c>, <c>resnet50v2</c>, <c>resnet101v2</c>,
    /// <c>resnet152v2</c>, <c>mobilenet</c>, <c>mobilenetv2</c>, <c>mobilenetv3small</c>, <c>mobilenetv3large</c>,
    /// <c>efficientnet-b0</c> … <c>efficientnet-b7</c>, <c>efficientnetv2-b0</c> … <c>efficientnetv2-b3</c>,
    /// <c>efficientnetv2-s</c>, <c>efficientnetv2-m</c>, <c>efficientnetv2-l</c>.
    /// </summary>
    public static IReadOnlyList<string> Names { get; } = [.. s_builders.Select(b => b.Name)];

    /// <summary>
    /// Builds the architecture called <paramref name="name"/> with seeded weights. Names are case-insensitive and are
    /// accepted in NativeCnn's form (<c>efficientnet-b0</c>), Keras's function and model names (<c>efficientnetb0</c>,
    /// <c>EfficientNetV2S</c>, <c>efficientnetv2-s</c>, <c>resnet50</c>, <c>ResNet50V2</c>, <c>mobilenetv2</c>, <c>mobilenet_v2</c>,
    /// <c>MobileNetV3Small</c>) and, for MobileNet and MobileNetV2, Keras's model name with its width and input size
    /// (<c>mobilenet_0.25_128</c>, <c>mobilenetv2_0.35_96</c>, what <see cref="Model.Name"/> returns), so every built model's
    /// name builds it again.
    /// </summary>
    /// <exception cref="ArgumentException">The name is unknown (the message lists the names), the options are invalid, or a
    /// MobileNet or MobileNetV2 model name's width or size contradicts <paramref name="options"/>.</exception>
    public static Model Create(string name, ApplicationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        options ??= new ApplicationOptions();
        if (!TryResolve(name, out string canonical, out double? alpha, out int? resolution))
            throw new ArgumentException($"Unknown architecture '{Shorten(name)}'; expected one of: {string.Join(", ", Names)} (or Keras's names: efficientnetb0, mobilenet_v2, ...).", nameof(name));
        if (alpha is { } a)
        {
            if (options.Alpha != 1.0 && options.Alpha != a) throw new ArgumentException($"'{name}' names alpha {a}, but the options give {options.Alpha}.", nameof(name));
            if (options.Resolution is { } r && r != resolution) throw new ArgumentException($"'{name}' names resolution {resolution}, but the options give {r}.", nameof(name));
            options = options with { Alpha = a, Resolution = resolution };
        }
        return s_builders.First(b => b.Name == canonical).Create(options);
    }

    /// <summary>
    /// The canonical name (one of <see cref="Names"/>) for any accepted form of an architecture name (see
    /// <see cref="Create"/>); for a MobileNet or MobileNetV2 model name also its width and input size.
    /// </summary>
    public static bool TryResolve(string name, out string canonical, out double? alpha, out int? resolution)
    {
        ArgumentNullException.ThrowIfNull(name);
        canonical = "";
        alpha = null;
        resolution = null;
        string lower = name.Trim().ToLowerInvariant();
        var mobileNet = System.Text.RegularExpressions.Regex.Match(lower, @"^mobilenet([-_]?v2)?_(\d+(?:\.\d+)?)_(\d{2,4})$");
        if (mobileNet.Success)
        {
            alpha = double.Parse(mobileNet.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            resolution = int.Parse(mobileNet.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
            canonical = mobileNet.Groups[1].Success ? "mobilenetv2" : "mobilenet";
            return true;
        }
        string compact = lower.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        foreach (var (builderName, _) in s_builders)
        {
            if (builderName.Replace("-", "", StringComparison.Ordinal) != compact) continue;
            canonical = builderName;
            return true;
        }
        return false;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : $"{text[..77]}...";
}
