namespace NativeCnn.Tensors;

/// <summary>
/// How large a tensor this process can hold. Shape inference (layers) and planning (models) ask before anything is
/// allocated, so a lying configuration (a huge ZeroPadding2D) is refused with a message instead of failing deep inside
/// an allocation or paging the machine to a halt.
/// </summary>
internal static class TensorLimits
{
    /// <summary>
    /// The most bytes of activations a plan may ask for: the memory the GC reports this process can use (physical
    /// memory, or the container's limit).
    /// </summary>
    public static long AvailableBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>
    /// Why no backend could hold an output of <paramref name="shape"/> (more than <see cref="int.MaxValue"/> elements, the
    /// kernels' index range and a host tensor's limit, or more bytes than <see cref="AvailableBytes"/>); null when it fits.
    /// </summary>
    public static string? OutputProblem(TensorShape shape)
    {
        long elements = shape.ElementCount, available = AvailableBytes;
        // ElementCount fits 64 bits (TensorShape checks), and 4 times it fits unless it is above 2^61.
        long bytes = elements > long.MaxValue / sizeof(float) ? long.MaxValue : elements * sizeof(float);
        return elements > int.MaxValue || bytes > available
            ? $"output {shape} would need {elements} elements ({bytes} bytes); a tensor holds at most {int.MaxValue} elements "
              + $"and this process can use {available} bytes"
            : null;
    }
}
