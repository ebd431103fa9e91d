namespace NativeCnn.Models.Architectures;

/// <summary>
/// EfficientNet compound-scaling coefficients: the arguments of Keras's <c>EfficientNet(width_coefficient,
/// depth_coefficient, default_size, dropout_rate, model_name=...)</c>. B0..B7 are Keras's table; any other values give a
/// custom variant.
/// </summary>
/// <param name="Name">The Keras model name, e.g. <c>efficientnetb0</c>.</param>
/// <param name="Width">Width coefficient (channel multiplier before rounding to multiples of 8).</param>
/// <param name="Depth">Depth coefficient (block-repeat multiplier, rounded up).</param>
/// <param name="Resolution">Default square input size.</param>
/// <param name="Dropout">Rate of <c>top_dropout</c> before <c>predictions</c>.</param>
public sealed record EfficientNetVariant(string Name, double Width, double Depth, int Resolution, double Dropout)
{
    /// <summary>EfficientNetB0: width 1.0, depth 1.0, 224, dropout 0.2.</summary>
    public static EfficientNetVariant B0 { get; } = new("efficientnetb0", 1.0, 1.0, 224, 0.2);
    /// <summary>EfficientNetB1: width 1.0, depth 1.1, 240, dropout 0.2.</summary>
    public static EfficientNetVariant B1 { get; } = new("efficientnetb1", 1.0, 1.1, 240, 0.2);
    /// <summary>EfficientNetB2: width 1.1, depth 1.2, 260, dropout 0.3.</summary>
    public static EfficientNetVariant B2 { get; } = new("efficientnetb2", 1.1, 1.2, 260, 0.3);
    /// <summary>EfficientNetB3: width 1.2, depth 1.4, 300, dropout 0.3.</summary>
    public static EfficientNetVariant B3 { get; } = new("efficientnetb3", 1.2, 1.4, 300, 0.3);
    /// <summary>EfficientNetB4: width 1.4, depth 1.8, 380, dropout 0.4.</summary>
    public static EfficientNetVariant B4 { get; } = new("efficientnetb4", 1.4, 1.8, 380, 0.4);
    /// <summary>EfficientNetB5: width 1.6, depth 2.2, 456, dropout 0.4.</summary>
    public static EfficientNetVariant B5 { get; } = new("efficientnetb5", 1.6, 2.2, 456, 0.4);
    /// <summary>EfficientNetB6: width 1.8, depth 2.6, 528, dropout 0.5.</summary>
    public static EfficientNetVariant B6 { get; } = new("efficientnetb6", 1.8, 2.6, 528, 0.5);
    /// <summary>EfficientNetB7: width 2.0, depth 3.1, 600, dropout 0.5.</summary>
    public static EfficientNetVariant B7 { get; } = new("efficientnetb7", 2.0, 3.1, 600, 0.5);

    /// <summary>B0..B7 in order.</summary>
    public static IReadOnlyList<EfficientNetVariant> Standard { get; } = [B0, B1, B2, B3, B4, B5, B6, B7];

    /// <summary>Checks that the coefficients can build a model.</summary>
    /// <exception cref="ArgumentException">A coefficient is not positive or the dropout rate is outside [0, 1).</exception>
    public void Validate()
    {
        EfficientNetBlocks.ValidateScaling("EfficientNet", Name, Width, Depth, Resolution);
        if (!(Dropout is >= 0 and < 1)) throw new ArgumentException($"{Name}: dropout must be in [0, 1), got {Dropout}.", nameof(Dropout));
    }
}
