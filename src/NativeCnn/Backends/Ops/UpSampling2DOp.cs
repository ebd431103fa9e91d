namespace NativeCnn.Backends;

/// <summary>How <see cref="UpSampling2DOp"/> fills the pixels it adds.</summary>
public enum Interpolation
{
    /// <summary>Each input pixel repeated over a <c>factor × factor</c> block.</summary>
    Nearest,
    /// <summary>
    /// TensorFlow 2's <c>tf.image.resize(method='bilinear')</c> with half-pixel centres: output pixel <c>o</c> samples input
    /// coordinate <c>(o + 0.5) / factor − 0.5</c>, the neighbours clamped to the edge.
    /// </summary>
    Bilinear,
}

/// <summary>Enlarges height and width by whole factors (Keras <c>UpSampling2D</c>).</summary>
/// <param name="HeightFactor">Output height per input row, at least 1.</param>
/// <param name="WidthFactor">Output width per input column, at least 1.</param>
/// <param name="Interpolation">How new pixels are filled.</param>
public sealed record UpSampling2DOp(int HeightFactor, int WidthFactor, Interpolation Interpolation) : OpDescriptor;
