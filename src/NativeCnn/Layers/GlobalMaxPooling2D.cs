using NativeCnn.Backends;

namespace NativeCnn.Layers;

/// <summary>Keras <c>GlobalMaxPooling2D</c>: the max over height and width per channel.</summary>
public sealed class GlobalMaxPooling2D(string name, bool keepDims = false) : GlobalPooling2D(name, PoolingMode.Max, keepDims);
