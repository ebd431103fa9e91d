namespace NativeCnn.Weights.TensorFlowJs;

/// <summary>One weight of a TensorFlow.js layers model, dequantized to float32.</summary>
/// <param name="Name">The manifest name, a Keras weight path such as <c>stem_conv/kernel</c>.</param>
/// <param name="Shape">Row-major dimensions as the manifest gives them (Keras layout, e.g. HWIO for a Conv2D kernel).</param>
/// <param name="Values">The values in row-major order; int32 and bool weights are converted exactly.</param>
public sealed record NamedWeight(string Name, int[] Shape, float[] Values);
