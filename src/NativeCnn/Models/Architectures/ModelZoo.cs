namespace NativeCnn.Models.Architectures;

/// <summary>The Keras applications by name, for command lines and configuration files.</summary>
public static class ModelZoo
{
    private static readonly (string Name, Func<ApplicationOptions, Model> Create)[] s_builders =
    [
        ("resnet50", ResNet.ResNet50),
        ("resnet101", ResNet.ResNet101),
        ("resnet152", ResNet.ResNet152),
        ("mobilenetv2", MobileNetV2.Create),
        .. EfficientNetVariant.Standard.Select((v, i) => ($"efficientnet-b{i}", (Func<ApplicationOptions, Model>)(o => EfficientNet.Create(v, o)))),
    ];

    /// <summary>
    /// The architecture names: <c>resnet50</c>, <c>resnet101</c>, <c>resnet152</c>, <c>mobilenetv2</c>,
    /// <c>efficientnet-b0</c> … <c>efficientnet-b7</c>.
    /// </summary>
    public static IReadOnlyList<string> Names { get; } = [.. s_builders.Select(b => b.Name)];

    /// <summary>Builds the architecture called <paramref name="name"/> (case-insensitive) with seeded weights.</summary>
    /// <exception cref="ArgumentException">The name is unknown (the message lists the names) or the options are invalid.</exception>
    public static Model Create(string name, ApplicationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        options ??= new ApplicationOptions();
        foreach (var (builderName, create) in s_builders)
        {
            if (string.Equals(builderName, name, StringComparison.OrdinalIgnoreCase)) return create(options);
        }
        throw new ArgumentException($"Unknown architecture '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name));
    }
}
