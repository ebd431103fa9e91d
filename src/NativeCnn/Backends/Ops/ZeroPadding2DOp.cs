namespace NativeCnn.Backends;

/// <summary>Pads height and width with zeros (Keras <c>ZeroPadding2D</c>, asymmetric allowed).</summary>
public sealed record ZeroPadding2DOp(Padding2D Padding) : OpDescriptor;
