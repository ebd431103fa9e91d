namespace NativeCnn.Weights.Keras;

/// <summary>One weight variable read from a Keras weight file.</summary>
/// <param name="Name">
/// The Keras weight path, such as <c>block1a_dwconv/depthwise_kernel</c> (legacy files, with the TensorFlow <c>:0</c>
/// suffix removed), or <c>&lt;layer&gt;/vars/&lt;index&gt;</c> for Keras 3 files, which do not store variable names.
/// </param>
/// <param name="Shape">The dimensions in Keras order (for example a Conv2D kernel is height, width, in, out); empty for a scalar.</param>
/// <param name="Values">The values in C order, as float32.</param>
public sealed record KerasWeightTensor(string Name, int[] Shape, float[] Values);
