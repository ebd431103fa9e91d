using NativeCnn.Layers;
using NativeCnn.Layers.Config;
using NativeCnn.Models;

namespace NativeCnn.Weights;

/// <summary>
/// Puts weights read from a file into a model, with every name and shape checked: by Keras weight name, or, for files
/// whose names differ from the model's (a legacy file, a renamed model), by layer order as Keras's own topological
/// loader does. Nothing is left silently at its initial value and nothing in the file is silently ignored.
/// </summary>
public static class WeightAssignment
{
    /// <summary>
    /// Assigns each model weight the file weight of the same Keras name. Aliases Keras itself uses, as the layer's registry
    /// entry lists them (<see cref="KerasLayerEntry.WeightAliases"/>), are accepted: a DepthwiseConv2D's <c>kernel</c>
    /// (Keras 3) for <c>depthwise_kernel</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">A weight is missing, has another shape, or a file weight matches nothing;
    /// the message names the weights (up to a few of each kind) and both shapes.</exception>
    public static void ByName(Model model, IEnumerable<WeightTensor> weights)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(weights);
        var layers = new Dictionary<string, Layer>(StringComparer.Ordinal);
        foreach (var layer in model.Layers) layers.TryAdd(layer.Name, layer);
        var byName = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        foreach (var weight in weights)
        {
            string name = layers.TryGetValue(weight.LayerName, out var layer)
                          && KerasLayerRegistry.LayerWeightName(layer, weight.WeightName) is var own && own != weight.WeightName
                ? $"{weight.LayerName}/{own}"
                : weight.Name;
            if (!byName.TryAdd(name, weight))
                throw new InvalidDataException($"The file holds weight '{weight.Name}' twice.");
        }
        var problems = new List<string>();
        var assignments = new List<(LayerWeight Target, WeightTensor Source)>();
        foreach (var target in model.Weights)
        {
            if (!byName.Remove(target.FullName, out var source)) problems.Add($"missing {target.FullName} {target.Shape}");
            else if (ShapeProblem(target, source) is { } problem) problems.Add(problem);
            else assignments.Add((target, source));
        }
        problems.AddRange(byName.Values.Select(w => $"unused {w} (no such weight in {model.Name})"));
        ThrowIfAny(model, problems);
        foreach (var (target, source) in assignments) source.Values.CopyTo(target.Value.Span);
        model.InvalidatePlans();
    }

    /// <summary>
    /// Assigns weights layer by layer in order: the <paramref name="layers"/> that hold weights are paired with the
    /// model's layers that have weights, and within a layer the weights are taken in order (Keras's legacy
    /// <c>load_weights</c> semantics). Names may differ; counts and shapes may not.
    /// </summary>
    /// <exception cref="InvalidDataException">The layer counts, a layer's weight count, or a shape differ; the message names both sides.</exception>
    public static void ByLayerOrder(Model model, IEnumerable<IReadOnlyList<WeightTensor>> layers)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(layers);
        var fileLayers = layers.Where(l => l.Count > 0).ToArray();
        var modelLayers = model.Layers.Where(l => l.Weights.Count > 0).ToArray();
        if (fileLayers.Length != modelLayers.Length)
            throw new InvalidDataException($"{model.Name}: the file has {fileLayers.Length} layers with weights, the model {modelLayers.Length}.");
        var problems = new List<string>();
        for (int i = 0; i < modelLayers.Length; i++)
        {
            var (target, source) = (modelLayers[i], fileLayers[i]);
            if (target.Weights.Count != source.Count)
            {
                problems.Add($"layer {i} '{target.Name}' has {target.Weights.Count} weights, the file's '{source[0].LayerName}' {source.Count}");
                continue;
            }
            for (int j = 0; j < source.Count; j++)
            {
                if (ShapeProblem(target.Weights[j], source[j]) is { } problem) problems.Add(problem);
            }
        }
        ThrowIfAny(model, problems);
        for (int i = 0; i < modelLayers.Length; i++)
        {
            for (int j = 0; j < fileLayers[i].Count; j++) fileLayers[i][j].Values.CopyTo(modelLayers[i].Weights[j].Value.Span);
        }
        model.InvalidatePlans();
    }

    private static string? ShapeProblem(LayerWeight target, WeightTensor source)
    {
        var shape = target.Shape;
        // Keras scalars (Normalization's count) are shape () in files and (1,) here, as TensorShape has rank 1 to 4.
        if (source.Shape.Length == 0 && shape.Rank == 1 && shape[0] == 1 && source.Values.Length == 1) return null;
        bool same = shape.Rank == source.Shape.Length && source.Values.Length == shape.ElementCount;
        for (int d = 0; same && d < shape.Rank; d++) same = shape[d] == source.Shape[d];
        return same ? null : $"{target.FullName}: the model needs {shape}, the file's {source.Name} is {source.ShapeText}";
    }

    private static void ThrowIfAny(Model model, List<string> problems)
    {
        if (problems.Count == 0) return;
        const int Shown = 8;
        string more = problems.Count > Shown ? $"\n  … and {problems.Count - Shown} more" : "";
        throw new InvalidDataException($"{model.Name}: {problems.Count} weight problem(s):\n  {string.Join("\n  ", problems.Take(Shown))}{more}");
    }
}
