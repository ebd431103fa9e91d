namespace NativeCnn.Weights.Keras;

/// <summary>One layer's entry in a Keras weight file.</summary>
/// <param name="Name">
/// The layer name (<c>block1a_dwconv</c>). For a Keras 3 file written before Keras 3.6, which stores no names, this is
/// the HDF5 key instead (<c>depthwise_conv2d_3</c>); mapping such keys to layers needs the model's layer order.
/// </param>
/// <param name="GroupPath">The HDF5 group holding the layer's weights, such as <c>/model_weights/block1a_dwconv</c> or <c>/layers/conv2d_1</c>.</param>
/// <param name="Weights">The weights in Keras order (trainable, then non-trainable); empty for a layer without weights.</param>
public sealed record KerasWeightLayer(string Name, string GroupPath, IReadOnlyList<WeightTensor> Weights);
