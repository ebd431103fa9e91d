namespace NativeCnn.Models.Architectures;

/// <summary>Keras's <c>pooling</c> argument of the applications: what follows the last feature map when <c>include_top</c> is false.</summary>
public enum GlobalPooling
{
    /// <summary><c>pooling=None</c>: the model ends with the 4-D feature map.</summary>
    None,
    /// <summary><c>pooling="avg"</c>: a <c>GlobalAveragePooling2D</c> gives one vector per image.</summary>
    Average,
    /// <summary><c>pooling="max"</c>: a <c>GlobalMaxPooling2D</c> gives one vector per image.</summary>
    Max,
}
