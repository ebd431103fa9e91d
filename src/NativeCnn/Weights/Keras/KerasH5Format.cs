namespace NativeCnn.Weights.Keras;

/// <summary>The layout of a Keras HDF5 weight file.</summary>
public enum KerasH5Format
{
    /// <summary>
    /// Keras 2 (and Keras 3's legacy writer) <c>.h5</c>: <c>save_weights</c> at the root, or <c>model.save</c> with a
    /// <c>model_weights</c> group; layers listed in the <c>layer_names</c> attribute.
    /// </summary>
    Legacy,

    /// <summary>Keras 3 <c>.weights.h5</c> (also inside <c>.keras</c> archives): <c>layers/&lt;key&gt;/vars/&lt;index&gt;</c>.</summary>
    Keras3,
}
