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
/// Max or average pooling over windows. <see cref="Padding"/> cells are ignored, never treated as zeros, as TensorFlow
/// does for 'SAME' pooling, unless <see cref="PaddedCellsAreZeros"/> says otherwise.
/// </summary>
/// <param name="Mode">Max or average.</param>
/// <param name="PoolHeight">Window height.</param>
/// <param name="PoolWidth">Window width.</param>
/// <param name="StrideHeight">Vertical stride.</param>
/// <param name="StrideWidth">Horizontal stride.</param>
/// <param name="Padding">Explicit padding of the input on each side.</param>
/// <param name="PaddedCellsAreZeros">
/// Whether padded cells count as zeros, as a Keras <c>ZeroPadding2D</c> folded into a 'valid' max pooling computes them
/// (ResNet's <c>pool1_pad</c>): a window that reaches into the padding is at least 0, where 'SAME' pooling would return
/// the max of its negative in-bounds cells. Only for <see cref="PoolingMode.Max"/>.
/// </param>
public sealed record Pooling2DOp(PoolingMode Mode, int PoolHeight, int PoolWidth, int StrideHeight, int StrideWidth,
                                 Padding2D Padding, bool PaddedCellsAreZeros = false) : OpDescriptor;
