using NativeCnn.Backends;

namespace NativeCnn.Layers;

/// <summary>Keras <c>GlobalAveragePooling2D</c>: the mean over height and width per channel.</summary>
public sealed class GlobalAveragePooling2D(string name, bool keepDims = false) : GlobalPooling2D(name, PoolingMode.Average, keepDims);
