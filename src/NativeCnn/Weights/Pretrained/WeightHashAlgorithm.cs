namespace NativeCnn.Weights.Pretrained;

/// <summary>How a <see cref="PretrainedWeightFile"/> is verified, as Keras's <c>get_file(file_hash=...)</c> does.</summary>
public enum WeightHashAlgorithm
{
    /// <summary>No published hash (Keras's MobileNetV2): the file must load as the expected weights before it is kept.</summary>
    None,

    /// <summary>MD5, what Keras publishes for ResNet and EfficientNet (a 32-character <c>file_hash</c>).</summary>
    Md5,

    /// <summary>SHA-256 (a 64-character <c>file_hash</c>).</summary>
    Sha256,
}
