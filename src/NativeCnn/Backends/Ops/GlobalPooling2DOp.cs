namespace NativeCnn.Backends;

/// <summary>
/// Reduces height and width to one value per channel: output <c>(N, C)</c>, or <c>(N, 1, 1, C)</c> when the layer keeps
/// dimensions (the output buffer's shape says which).
/// </summary>
public sealed record GlobalPooling2DOp(PoolingMode Mode) : OpDescriptor;
