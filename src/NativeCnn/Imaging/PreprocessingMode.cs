namespace NativeCnn.Imaging;

/// <summary>
/// How pixels become model inputs, named after the <c>mode</c> of Keras's
/// <c>keras.applications.imagenet_utils.preprocess_input</c>.
/// </summary>
public enum PreprocessingMode
{
    /// <summary>Raw 0..255 values as floats: for models that normalize inside (EfficientNet's Rescaling and Normalization layers).</summary>
    None,

    /// <summary>RGB→BGR, then subtract the ImageNet mean [103.939, 116.779, 123.68] (in BGR order), no scaling: ResNet, VGG.</summary>
    Caffe,

    /// <summary><c>x / 127.5 − 1</c>, giving −1..1: MobileNet, MobileNetV2, Inception, Xception.</summary>
    Tf,

    /// <summary><c>(x / 255 − mean) / std</c> with mean [0.485, 0.456, 0.406] and std [0.229, 0.224, 0.225] (RGB): DenseNet.</summary>
    Torch,
}
