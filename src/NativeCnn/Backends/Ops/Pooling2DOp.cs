namespace NativeCnn.Backends;

/// <summary>The reduction of a pooling window.</summary>
public enum PoolingMode
{
    /// <summary>Maximum of the window.</summary>
    Max,
    /// <summary>Mean of the window; padded cells are not counted (TensorFlow SAME semantics).</summary>
    Average,
}

/// <summary>
/// Max or average pooling over windows. <see cref="Padding"/> cells are ignored, never treated as zeros,
/// as TensorFlow does for 'SAME' pooling.
/// </summary>
public sealed record Pooling2DOp(PoolingMode Mode, int PoolHeight, int PoolWidth, int StrideHeight, int StrideWidth,
                                 Padding2D Padding) : OpDescriptor;
