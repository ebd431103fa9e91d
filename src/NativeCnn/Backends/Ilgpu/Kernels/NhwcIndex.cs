namespace NativeCnn.Backends.Ilgpu.Kernels;

/// <summary>Index arithmetic that the one-thread-per-value kernels share.</summary>
internal static class NhwcIndex
{
    /// <summary>
    /// The position of flat index <paramref name="i"/> in an NHWC tensor of <paramref name="height"/> ×
    /// <paramref name="width"/> × <paramref name="channels"/> images: channels fastest, then x, y and the image.
    /// </summary>
    public static void Position(int i, int height, int width, int channels, out int n, out int y, out int x, out int c)
    {
        c = i % channels;
        int rest = i / channels;
        x = rest % width;
        rest /= width;
        y = rest % height;
        n = rest / height;
    }
}
