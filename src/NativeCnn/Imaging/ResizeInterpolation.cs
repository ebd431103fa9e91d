namespace NativeCnn.Imaging;

/// <summary>The resampling filter of <see cref="ImageResize"/>, named as Keras's <c>load_img(interpolation=…)</c> names it.</summary>
public enum ResizeInterpolation
{
    /// <summary>PIL's <c>NEAREST</c>, Keras's default: source index <c>floor((dst + 0.5) · src / dst)</c>.</summary>
    Nearest,

    /// <summary>PIL's <c>BILINEAR</c>: a triangle filter widened by the scale factor when downscaling (it averages, it does not skip pixels).</summary>
    Bilinear,
}
