namespace NativeCnn.Training;

/// <summary>The height and width of a crop of <c>(height, width, channels)</c> samples.</summary>
/// <param name="Height">Rows kept.</param>
/// <param name="Width">Columns kept.</param>
public readonly record struct CropSize(int Height, int Width)
{
    /// <summary>Throws unless the crop fits inside samples of <paramref name="sampleShape"/> (height, width, channels).</summary>
    /// <exception cref="ArgumentException">The samples are not (height, width, channels), or the crop is empty or larger.</exception>
    internal void CheckFits(IReadOnlyList<int> sampleShape, string parameterName)
    {
        if (sampleShape.Count != 3)
            throw new ArgumentException($"a {Height}x{Width} crop needs (height, width, channels) samples, got ({string.Join(", ", sampleShape)}).", parameterName);
        if (Height < 1 || Width < 1 || Height > sampleShape[0] || Width > sampleShape[1])
            throw new ArgumentException($"a {Height}x{Width} crop must be at least 1x1 and fit inside the {sampleShape[0]}x{sampleShape[1]} samples.", parameterName);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Height}x{Width}";
}
