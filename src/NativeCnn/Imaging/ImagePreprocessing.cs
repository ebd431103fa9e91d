namespace NativeCnn.Imaging;

/// <summary>
/// Turns <see cref="RgbImage"/>s into NHWC float32 model inputs the way Keras's <c>preprocess_input</c> does,
/// in the same float32 operations and order, so the values are bit-identical to Keras's numpy path.
/// </summary>
public static class ImagePreprocessing
{
    /// <summary>Keras's caffe-mode mean, in BGR order.</summary>
    private const float CaffeMeanB = 103.939f, CaffeMeanG = 116.779f, CaffeMeanR = 123.68f;

    private const float TorchMeanR = 0.485f, TorchMeanG = 0.456f, TorchMeanB = 0.406f;
    private const float TorchStdR = 0.229f, TorchStdG = 0.224f, TorchStdB = 0.225f;

    /// <summary>Returns a new <c>(1, height, width, 3)</c> tensor holding the preprocessed image.</summary>
    public static Tensor ToTensor(RgbImage image, PreprocessingMode mode)
    {
        ArgumentNullException.ThrowIfNull(image);
        var tensor = new Tensor(TensorShape.Nhwc(1, image.Height, image.Width, 3));
        WriteInto(image, mode, tensor, 0);
        return tensor;
    }

    /// <summary>Returns a new <c>(count, height, width, 3)</c> tensor holding the preprocessed images, which must share one size.</summary>
    /// <exception cref="ArgumentException">The list is empty or the images differ in size.</exception>
    public static Tensor ToTensor(IReadOnlyList<RgbImage> images, PreprocessingMode mode)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("At least one image is needed.", nameof(images));
        var tensor = new Tensor(TensorShape.Nhwc(images.Count, images[0].Height, images[0].Width, 3));
        for (int n = 0; n < images.Count; n++) WriteInto(images[n], mode, tensor, n);
        return tensor;
    }

    /// <summary>
    /// Writes the preprocessed image into batch slot <paramref name="batchIndex"/> of an existing NHWC tensor,
    /// allocating nothing, so one input tensor can be refilled for every inference.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not <c>(batch, image height, image width, 3)</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The batch index is outside the tensor, or the mode is unknown.</exception>
    public static void WriteInto(RgbImage image, PreprocessingMode mode, Tensor destination, int batchIndex)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(destination);
        var shape = destination.Shape;
        if (shape.Rank != 4 || shape.Height != image.Height || shape.Width != image.Width || shape.Channels != 3)
            throw new ArgumentException($"Expected a tensor of shape (batch, {image.Height}, {image.Width}, 3) for a {image.Width}x{image.Height} image, got {shape}.", nameof(destination));
        if ((uint)batchIndex >= (uint)shape.Batch)
            throw new ArgumentOutOfRangeException(nameof(batchIndex), batchIndex, $"The tensor holds {shape.Batch} images.");
        int length = image.Pixels.Length;
        Write(image.Pixels, mode, destination.Span.Slice(batchIndex * length, length));
    }

    /// <summary>Converts interleaved RGB bytes to preprocessed floats, pixel by pixel.</summary>
    private static void Write(ReadOnlySpan<byte> rgb, PreprocessingMode mode, Span<float> output)
    {
        switch (mode)
        {
            case PreprocessingMode.None:
                for (int i = 0; i < rgb.Length; i++) output[i] = rgb[i];
                break;
            case PreprocessingMode.Caffe:
                for (int i = 0; i < rgb.Length; i += 3)
                {
                    output[i] = rgb[i + 2] - CaffeMeanB;
                    output[i + 1] = rgb[i + 1] - CaffeMeanG;
                    output[i + 2] = rgb[i] - CaffeMeanR;
                }
                break;
            case PreprocessingMode.Tf:
                // Two float32 steps, as Keras's "x /= 127.5; x -= 1.0".
                for (int i = 0; i < rgb.Length; i++) output[i] = rgb[i] / 127.5f - 1f;
                break;
            case PreprocessingMode.Torch:
                for (int i = 0; i < rgb.Length; i += 3)
                {
                    output[i] = (rgb[i] / 255f - TorchMeanR) / TorchStdR;
                    output[i + 1] = (rgb[i + 1] / 255f - TorchMeanG) / TorchStdG;
                    output[i + 2] = (rgb[i + 2] / 255f - TorchMeanB) / TorchStdB;
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown preprocessing mode.");
        }
    }
}
