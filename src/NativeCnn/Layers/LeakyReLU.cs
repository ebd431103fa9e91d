using NativeCnn.Backends;
using NativeCnn.Layers.Config;

namespace NativeCnn.Layers;

/// <summary>Keras <c>LeakyReLU</c>: <c>x</c> for <c>x ≥ 0</c>, else <c>x · negative_slope</c> (0.3 by default, as Keras's).</summary>
/// <param name="name">The layer name.</param>
/// <param name="negativeSlope">The slope below zero; finite.</param>
public sealed class LeakyReLU(string name, float negativeSlope = 0.3f) : Activation(name, ActivationFunction.LeakyRelu(negativeSlope))
{
    /// <summary>The slope below zero.</summary>
    public float NegativeSlope => Function.Alpha;

    /// <summary>The Keras config form of <c>LeakyReLU</c>: <c>negative_slope</c> (Keras 3) or <c>alpha</c> (Keras 2, TensorFlow.js),
    /// 0.3 when absent; written as <c>alpha</c>, which both read (see <see cref="KerasLayerRegistry"/>).</summary>
    internal static new KerasLayerEntry KerasEntry { get; } =
        OneArgumentEntry("LeakyReLU", "negative_slope", "alpha", "alpha", 0.3, (layerName, slope) => new LeakyReLU(layerName, slope));
}
