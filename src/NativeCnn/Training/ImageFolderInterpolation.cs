namespace NativeCnn.Training;

/// <summary>How <see cref="ImageFolderDataset"/> resizes images, named as <c>image_dataset_from_directory(interpolation=…)</c>.</summary>
public enum ImageFolderInterpolation
{
    /// <summary>
    /// <c>tf.image.resize(method="bilinear")</c>, Keras's default: half-pixel centers, no antialiasing, float32 output
    /// (not rounded).
    /// </summary>
    Bilinear,

    /// <summary><c>tf.image.resize(method="nearest")</c>: source index <c>floor((dst + 0.5) · src / dst)</c>.</summary>
    Nearest,
}
