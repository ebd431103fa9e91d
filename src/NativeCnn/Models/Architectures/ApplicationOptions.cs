using System.Globalization;
using NativeCnn.Backends;
using NativeCnn.Weights.Pretrained;

namespace NativeCnn.Models.Architectures;

/// <summary>
/// The arguments of a Keras application builder (<c>keras.applications.EfficientNetB0(...)</c> etc.).
/// </summary>
public sealed record ApplicationOptions
{
    /// <summary>MobileNetV2 widths that Keras publishes weights for (its <c>alpha</c> check).</summary>
    public static IReadOnlyList<double> MobileNetV2Alphas { get; } = [0.35, 0.5, 0.75, 1.0, 1.3, 1.4];

    /// <summary>MobileNet (v1) widths that Keras publishes weights for (its <c>alpha</c> check with <c>weights="imagenet"</c>).</summary>
    public static IReadOnlyList<double> MobileNetAlphas { get; } = [0.25, 0.5, 0.75, 1.0];

    /// <summary>
    /// MobileNetV3 widths that Keras publishes weights for: 0.75 and 1.0, minimalistic only 1.0 (its <c>alpha</c> check
    /// with <c>weights="imagenet"</c>).
    /// </summary>
    public static IReadOnlyList<double> MobileNetV3Alphas { get; } = [0.75, 1.0];

    /// <summary>The smallest input size Keras accepts for these families (<c>obtain_input_shape</c>'s <c>min_size</c>).</summary>
    public const int MinimumResolution = 32;

    /// <summary>Whether the classifier (<c>avg_pool</c> … <c>predictions</c>) is present; Keras's <c>include_top</c>.</summary>
    public bool IncludeTop { get; init; } = true;

    /// <summary>Global pooling after the features when <see cref="IncludeTop"/> is false; ignored otherwise, as in Keras.</summary>
    public GlobalPooling Pooling { get; init; } = GlobalPooling.None;

    /// <summary>Number of classes of the <c>predictions</c> layer.</summary>
    public int Classes { get; init; } = 1000;

    /// <summary>Keras activation name of <c>predictions</c>; <c>null</c> or <c>"linear"</c> returns logits.</summary>
    public string? ClassifierActivation { get; init; } = "softmax";

    /// <summary>
    /// EfficientNet, EfficientNetV2 and MobileNetV3 only: whether the in-model preprocessing is built, so that the model takes
    /// RGB in [0, 255]. EfficientNet's (<c>rescaling</c>, <c>normalization</c>, <c>rescaling_1</c>) is always built by Keras;
    /// EfficientNetV2's is Keras's <c>include_preprocessing</c> (<c>rescaling</c> and <c>normalization</c> for B0..B3, <c>rescaling</c>
    /// to [-1, 1) for S, M, L); MobileNetV3's <c>rescaling</c> (<c>x / 127.5 − 1</c>) is Keras's <c>include_preprocessing</c>. The
    /// other families have none and ignore this option.
    /// </summary>
    public bool IncludePreprocessing { get; init; } = true;

    /// <summary>
    /// Width multiplier of the MobileNet families (Keras's <c>alpha</c>): one of <see cref="MobileNetAlphas"/>,
    /// <see cref="MobileNetV2Alphas"/> or <see cref="MobileNetV3Alphas"/>; the other families reject anything but 1.
    /// </summary>
    public double Alpha { get; init; } = 1.0;

    /// <summary>
    /// MobileNet (v1) only: output channels per input channel of every depthwise convolution (Keras's
    /// <c>depth_multiplier</c>); Keras's ImageNet weights exist for 1 only. The other families reject anything but 1.
    /// </summary>
    public int DepthMultiplier { get; init; } = 1;

    /// <summary>
    /// MobileNetV3 only: Keras's <c>minimalistic</c> variant, with 3×3 depthwise kernels, ReLU instead of hard-swish and
    /// no squeeze-and-excitation. The other families reject <c>true</c>.
    /// </summary>
    public bool Minimalistic { get; init; }

    /// <summary>Square input size; <c>null</c> takes the model's default (224, or EfficientNet B0..B7's 224…600).</summary>
    public int? Resolution { get; init; }

    /// <summary>Input channels; EfficientNet's preprocessing needs 3.</summary>
    public int InputChannels { get; init; } = 3;

    /// <summary>
    /// Keras's <c>weights</c>: <c>null</c> keeps the seeded random weights; <c>"imagenet"</c> downloads (once, into the
    /// cache of <see cref="Download"/>), verifies and loads the Keras ImageNet file for this model, the <c>_notop</c> one
    /// when <see cref="IncludeTop"/> is false (see <see cref="PretrainedWeights"/>); any other value is a weights file or
    /// folder to load (<see cref="NativeCnn.Weights.ModelFile.LoadWeights"/>).
    /// </summary>
    /// <remarks>
    /// As in Keras, <c>"imagenet"</c> with <see cref="IncludeTop"/> needs 1000 <see cref="Classes"/>, and MobileNetV2 at an
    /// input size Keras has no weights for (not 96, 128, 160, 192 or 224) loads the 224 weights.
    /// </remarks>
    public string? Weights { get; init; }

    /// <summary>The cache folder, mirror, limits and progress for <see cref="Weights"/> = <c>"imagenet"</c>; <c>null</c> takes the environment's (<c>NATIVECNN_HOME</c>, <c>NATIVECNN_WEIGHTS_URL</c>).</summary>
    public PretrainedWeightsOptions? Download { get; init; }

    /// <summary>The resolution to build at: <see cref="Resolution"/> or <paramref name="defaultResolution"/>.</summary>
    public int ResolutionOr(int defaultResolution) => Resolution ?? defaultResolution;

    /// <summary>The <c>predictions</c> activation.</summary>
    /// <exception cref="ArgumentException">The name is not a supported activation.</exception>
    public ActivationFunction GetClassifierActivation()
    {
        try
        {
            return ActivationFunction.FromKerasName(ClassifierActivation);
        }
        catch (NotSupportedException e)
        {
            throw new ArgumentException(e.Message, nameof(ClassifierActivation), e);
        }
    }

    /// <summary>Checks the options every family shares.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Resolution is < MinimumResolution)
            throw new ArgumentException($"Resolution must be at least {MinimumResolution}, got {Resolution}.", nameof(Resolution));
        if (Classes < 1) throw new ArgumentException($"Classes must be at least 1, got {Classes}.", nameof(Classes));
        if (InputChannels < 1) throw new ArgumentException($"InputChannels must be at least 1, got {InputChannels}.", nameof(InputChannels));
        if (!Enum.IsDefined(Pooling)) throw new ArgumentException($"Pooling {(int)Pooling} is not a GlobalPooling value.", nameof(Pooling));
        if (DepthMultiplier < 1) throw new ArgumentException($"DepthMultiplier must be at least 1, got {DepthMultiplier}.", nameof(DepthMultiplier));
        GetClassifierActivation();
        ApplicationWeights.Validate(this);
    }

    /// <summary>
    /// Rejects the MobileNet-only options (<see cref="Alpha"/>, <see cref="DepthMultiplier"/>, <see cref="Minimalistic"/>)
    /// on a family that has none of them, rather than silently ignoring them.
    /// </summary>
    /// <exception cref="ArgumentException"><see cref="Alpha"/> or <see cref="DepthMultiplier"/> is not 1, or
    /// <see cref="Minimalistic"/> is set.</exception>
    public void RejectAlpha(string modelName)
    {
        if (Alpha != 1.0)
            throw new ArgumentException($"{modelName}: Alpha applies to MobileNet, MobileNetV2 and MobileNetV3 only, got {Alpha.ToString(CultureInfo.InvariantCulture)}.", nameof(Alpha));
        RejectDepthMultiplier(modelName);
        RejectMinimalistic(modelName);
    }

    /// <summary>Rejects a depth multiplier on a family other than MobileNet (v1).</summary>
    /// <exception cref="ArgumentException"><see cref="DepthMultiplier"/> is not 1.</exception>
    public void RejectDepthMultiplier(string modelName)
    {
        if (DepthMultiplier != 1)
            throw new ArgumentException($"{modelName}: DepthMultiplier applies to MobileNet (v1) only, got {DepthMultiplier}.", nameof(DepthMultiplier));
    }

    /// <summary>Rejects the minimalistic variant on a family other than MobileNetV3.</summary>
    /// <exception cref="ArgumentException"><see cref="Minimalistic"/> is set.</exception>
    public void RejectMinimalistic(string modelName)
    {
        if (Minimalistic)
            throw new ArgumentException($"{modelName}: Minimalistic applies to MobileNetV3 only.", nameof(Minimalistic));
    }

    /// <summary>Checks <see cref="Alpha"/> against <see cref="MobileNetAlphas"/>.</summary>
    /// <exception cref="ArgumentException">The width multiplier is not one Keras publishes weights for.</exception>
    public void ValidateMobileNetAlpha() => ValidateAlpha("MobileNet", MobileNetAlphas);

    /// <summary>
    /// Checks <see cref="Alpha"/> against <see cref="MobileNetV3Alphas"/>; with <see cref="Minimalistic"/> only 1.0 has
    /// Keras weights.
    /// </summary>
    /// <exception cref="ArgumentException">The width multiplier is not one Keras publishes weights for.</exception>
    public void ValidateMobileNetV3Alpha()
    {
        if (Minimalistic && Alpha != 1.0)
            throw new ArgumentException($"MobileNetV3 minimalistic alpha must be 1, got {Alpha.ToString(CultureInfo.InvariantCulture)}.", nameof(Alpha));
        ValidateAlpha("MobileNetV3", MobileNetV3Alphas);
    }

    private void ValidateAlpha(string family, IReadOnlyList<double> alphas)
    {
        if (!alphas.Any(a => Math.Abs(a - Alpha) < 1e-9))
            throw new ArgumentException(
                $"{family} alpha must be one of {string.Join(", ", alphas.Select(a => a.ToString(CultureInfo.InvariantCulture)))}, got {Alpha.ToString(CultureInfo.InvariantCulture)}.",
                nameof(Alpha));
    }

    /// <summary>Checks <see cref="Alpha"/> against <see cref="MobileNetV2Alphas"/>.</summary>
    /// <exception cref="ArgumentException">The width multiplier is not one Keras publishes weights for.</exception>
    public void ValidateMobileNetV2Alpha() => ValidateAlpha("MobileNetV2", MobileNetV2Alphas);
}
