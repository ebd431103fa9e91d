using NativeCnn.Backends;
using NativeCnn.Layers;

namespace NativeCnn.Models.Architectures;

/// <summary>
/// What <see cref="EfficientNet"/> and <see cref="EfficientNetV2"/> build alike, as Keras's <c>efficientnet.py</c> and
/// <c>efficientnet_v2.py</c> do: the loop over the stages and their repeats, squeeze-and-excitation, the drop-connect
/// residual, and the checks of the scaling coefficients.
/// </summary>
internal static class EfficientNetBlocks
{
    /// <summary>Builds one block: <paramref name="stage"/> indexes the stage table, <paramref name="prefix"/> is Keras's
    /// <c>block{stage + 1}{'a' + repeat}_</c>.</summary>
    public delegate Node BlockBuilder(Node x, int stage, string prefix, int filtersIn, int filtersOut, int strides, double dropRate);

    /// <summary>
    /// Keras's loop over <c>blocks_args</c>: stage <c>i</c>'s first block takes the stage's strides and input width, its
    /// repeats stride 1 from the output width; the drop-connect rate grows as <c>rate · blockIndex / totalBlocks</c>.
    /// <paramref name="scaledStage"/> gives stage <c>i</c>'s widths, strides and repeats after width and depth scaling.
    /// </summary>
    public static Node Stages(Node x, int stageCount, Func<int, (int FiltersIn, int FiltersOut, int Strides, int Repeats)> scaledStage,
                              double dropConnectRate, double totalBlocks, BlockBuilder block)
    {
        int blockIndex = 0;
        for (int i = 0; i < stageCount; i++)
        {
            var (filtersIn, filtersOut, strides, repeats) = scaledStage(i);
            for (int j = 0; j < repeats; j++)
            {
                if (j > 0)
                {
                    strides = 1;
                    filtersIn = filtersOut;
                }
                x = block(x, i, $"block{i + 1}{(char)('a' + j)}_", filtersIn, filtersOut, strides, dropConnectRate * blockIndex / totalBlocks);
                blockIndex++;
            }
        }
        return x;
    }

    /// <summary>Squeeze-and-excitation (<c>se_squeeze</c> … <c>se_excite</c>) over <paramref name="filters"/> channels; none unless <paramref name="seRatio"/> is in (0, 1].</summary>
    public static Node SqueezeExcite(Node x, string prefix, int filtersIn, int filters, double seRatio)
    {
        if (!(seRatio is > 0 and <= 1)) return x;
        // The bottleneck width comes from the block input, not the expanded width.
        int filtersSe = Math.Max(1, (int)(filtersIn * seRatio));
        var se = new GlobalAveragePooling2D(prefix + "se_squeeze").Call(x);
        se = new Reshape(prefix + "se_reshape", 1, 1, filters).Call(se);
        se = new Conv2D(prefix + "se_reduce", filtersSe, 1, 1, Padding.Same, activation: ActivationFunction.Swish).Call(se);
        se = new Conv2D(prefix + "se_expand", filters, 1, 1, Padding.Same, activation: ActivationFunction.Sigmoid).Call(se);
        return new Multiply(prefix + "se_excite").Call(x, se);
    }

    /// <summary>The residual of a stride-1 block whose widths match; the block output alone otherwise.</summary>
    public static Node Residual(Node x, Node inputs, string prefix, int filtersIn, int filtersOut, int strides, double dropRate)
    {
        if (strides != 1 || filtersIn != filtersOut) return x;
        // Keras's drop-connect (Dropout with noise_shape (None, 1, 1, 1)), skipped when the rate is 0 (block1a): the
        // identity at inference, kept so the layer list matches.
        if (dropRate > 0) x = new Dropout(prefix + "drop", dropRate) { NoiseShapeIsPerSample = true }.Call(x);
        return new Add(prefix + "add").Call(x, inputs);
    }

    /// <summary>Checks a variant's name, coefficients and default size.</summary>
    /// <exception cref="ArgumentException">The name is empty, a coefficient is not positive or the resolution is below the minimum.</exception>
    public static void ValidateScaling(string family, string name, double width, double depth, int resolution)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"An {family} variant needs a model name.", "Name");
        if (!(width > 0)) throw new ArgumentException($"{name}: width coefficient must be positive, got {width}.", "Width");
        if (!(depth > 0)) throw new ArgumentException($"{name}: depth coefficient must be positive, got {depth}.", "Depth");
        if (resolution < ApplicationOptions.MinimumResolution)
            throw new ArgumentException($"{name}: resolution must be at least {ApplicationOptions.MinimumResolution}, got {resolution}.", "Resolution");
    }
}
