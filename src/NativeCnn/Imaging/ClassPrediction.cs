namespace NativeCnn.Imaging;

/// <summary>One of a classifier's top predictions.</summary>
/// <param name="ClassIndex">The output index.</param>
/// <param name="Label">The class name (ImageNet's for 1000-class models, else the given labels, else <c>class N</c>).</param>
/// <param name="Probability">The softmax probability.</param>
public sealed record ClassPrediction(int ClassIndex, string Label, float Probability);
